complete -c smtp-send -s f -l from -d 'The envelope sender (MAIL FROM); default: the From address' -r
complete -c smtp-send -s o -d 'sendmail options (-oi is accepted; others are ignored)' -r
complete -c smtp-send -l file -d 'Send this message file (repeatable: all over one connection)' -r -F
complete -c smtp-send -l server -d 'The server: smtp://[USER@]HOST[:PORT] or smtps://... Without it, the message goes straight to each recipient domain\'s MX hosts (port 25, or --port; opportunistic STARTTLS)' -r
complete -c smtp-send -l dns-server -d 'Without --server: the DNS resolver to ask for MX records (default: the system\'s)' -r
complete -c smtp-send -l helo -d 'The name to give in EHLO (default: this host\'s fully qualified name, from the kernel or /etc/hosts, else the address literal of this end of the connection, e.g. [192.0.2.1]; RFC 5321 §4.1.1.1)' -r
complete -c smtp-send -l notify -d 'DSN: when to notify (e.g. SUCCESS,FAILURE or NEVER; RFC 3461)' -r
complete -c smtp-send -l ret -d 'DSN: return FULL message or HDRS only' -r
complete -c smtp-send -l envid -d 'DSN: envelope id' -r
complete -c smtp-send -l quit-after -d 'Stop after this step, say QUIT, and send no message (for diagnosing a server; stdin may be empty, the sender then <> unless -f). After rcpt, each recipient\'s result is its RCPT reply, with the usual exit statuses: an address check. A failure before the step is reported as usual; nothing is ever queued' -r -f -a "connect\t'After connecting'
banner\t'After the greeting'
ehlo\t'After EHLO'
starttls\t'After STARTTLS'
auth\t'After AUTH'
mail\t'After MAIL FROM'
rcpt\t'After RCPT TO'"
complete -c smtp-send -l queue -d 'On a temporary failure, spool the message in DIR and exit 0 with status queued' -r -F
complete -c smtp-send -l flush -d 'Retry every message spooled in DIR (for cron), each the way it was queued (see QUEUE)' -r -F
complete -c smtp-send -l list-queue -d 'List the messages spooled in DIR, as mailq does: each entry, its recipients, age, attempts and last reply; nothing is sent' -r -F
complete -c smtp-send -l max-age -d 'With --flush, give up on messages older than this (e.g. 5d, 12h, 30m)' -r
complete -c smtp-send -l port -d 'Connect to PORT instead of the URL\'s (or the scheme\'s default)' -r
complete -c smtp-send -l tls -d 'How to use TLS. Default: implicit for smtps, pop3s and imaps; starttls (required, or fail with status 76) for the others' -r -f -a "implicit\t'TLS from the first byte (smtps, pop3s, imaps; RFC 8314)'
starttls\t'Plain connection upgraded with STARTTLS/STLS; fail (76) when the server does not offer it'
opportunistic\t'STARTTLS/STLS when the server offers it, plain text otherwise'
none\t'No TLS at all'"
complete -c smtp-send -l cafile -d 'Trust the certificates in this PEM file instead of the system\'s roots (a private CA or a self-signed server, as curl\'s --cacert); the host name is still checked' -r -F
complete -c smtp-send -l fingerprint -d 'Accept only the server certificate with this SHA-256 fingerprint (hex, colons optional, as `openssl x509 -fingerprint -sha256` prints it), whoever signed it' -r
complete -c smtp-send -l user -d 'Log in as USER (instead of the URL\'s user)' -r
complete -c smtp-send -l password-file -d 'Read the password from the first line of FILE, which only its owner may access (chmod 600)' -r -F
complete -c smtp-send -l password-env -d 'Take the password from the environment variable VAR' -r
complete -c smtp-send -l password-command -d 'Take the password from the first line CMD prints (run with sh -c, e.g. "pass show mail"); CMD must exit 0' -r
complete -c smtp-send -l netrc-file -d 'Look the user and password up in this netrc file instead of ~/.netrc (which only its owner may access)' -r -F
complete -c smtp-send -l timeout -d 'Give up on a connection, lookup, read or write after SECS seconds' -r
complete -c smtp-send -s t -l read-recipients -d 'Also send to the To, Cc and Bcc addresses of the message'
complete -c smtp-send -s i -d 'Accepted for sendmail compatibility: a lone dot never ends the input'
complete -c smtp-send -l dry-run -d 'Show the envelope and what would be sent; connect to nothing. With --json, one object per message instead (see JSON)'
complete -c smtp-send -l reroute -d 'With --flush, send entries queued for another route by the route this command gives (otherwise they are kept and reported)'
complete -c smtp-send -l force -d 'With --flush, retry every message now, whatever its back-off says'
complete -c smtp-send -l insecure -d 'Do not verify the server\'s certificate. The connection is still encrypted, but anyone in between can read it'
complete -c smtp-send -l oauth -d 'The password is an OAuth 2.0 access token: log in with XOAUTH2 or OAUTHBEARER'
complete -c smtp-send -l allow-plaintext-auth -d 'Allow a password to cross a connection that is not encrypted'
complete -c smtp-send -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c smtp-send -s v -l verbose -d 'Show the conversation with servers on stderr (`->` sent, `<-` received; `~>`/`<~` once TLS is up; secrets as `****`)'
complete -c smtp-send -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c smtp-send -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smtp-send -s V -l version -d 'Print version'
