complete -c pop3-fetch -l maildir -d 'Store messages in this Maildir (created with cur, new and tmp when missing)' -r -F
complete -c pop3-fetch -l mbox -d 'Append messages to this mbox file (mboxrd); - writes to stdout' -r -F
complete -c pop3-fetch -l mda -d 'Pipe each message to this command (run with sh -c), which must exit 0; message facts are in its environment (see MDA)' -r
complete -c pop3-fetch -l message -d 'Write message number N, raw, to stdout' -r
complete -c pop3-fetch -l uid -d 'Write the message with this UIDL, raw, to stdout' -r
complete -c pop3-fetch -l state -d 'The state file (default: $XDG_STATE_HOME/mailkit/pop3-USER@HOST:PORT)' -r -F
complete -c pop3-fetch -l limit -d 'Fetch at most N messages in this run' -r
complete -c pop3-fetch -l max-size -d 'Skip messages larger than BYTES (reported; with --headers-only their header is stored instead)' -r
complete -c pop3-fetch -l auth -d 'How to log in (default: the strongest the server offers)' -r -f -a "auto\t'The strongest the server offers: SASL (OAUTHBEARER, XOAUTH2 with --oauth; PLAIN, LOGIN), then APOP, then USER/PASS'
user\t'USER and PASS (RFC 1939 §7)'
apop\t'APOP, the MD5 digest of the greeting\'s timestamp and the password'
plain\t'AUTH PLAIN (RFC 5034, RFC 4616)'
login\t'AUTH LOGIN'
xoauth2\t'AUTH XOAUTH2 (with --oauth)'
oauthbearer\t'AUTH OAUTHBEARER (RFC 7628, with --oauth)'"
complete -c pop3-fetch -l port -d 'Connect to PORT instead of the URL\'s (or the scheme\'s default)' -r
complete -c pop3-fetch -l tls -d 'How to use TLS. Default: implicit for smtps, pop3s and imaps; starttls (required, or fail with status 76) for the others' -r -f -a "implicit\t'TLS from the first byte (smtps, pop3s, imaps; RFC 8314)'
starttls\t'Plain connection upgraded with STARTTLS/STLS; fail (76) when the server does not offer it'
opportunistic\t'STARTTLS/STLS when the server offers it, plain text otherwise'
none\t'No TLS at all'"
complete -c pop3-fetch -l cafile -d 'Trust the certificates in this PEM file instead of the system\'s roots (a private CA or a self-signed server, as curl\'s --cacert); the host name is still checked' -r -F
complete -c pop3-fetch -l fingerprint -d 'Accept only the server certificate with this SHA-256 fingerprint (hex, colons optional, as `openssl x509 -fingerprint -sha256` prints it), whoever signed it' -r
complete -c pop3-fetch -l user -d 'Log in as USER (instead of the URL\'s user)' -r
complete -c pop3-fetch -l password-file -d 'Read the password from the first line of FILE, which only its owner may access (chmod 600)' -r -F
complete -c pop3-fetch -l password-env -d 'Take the password from the environment variable VAR' -r
complete -c pop3-fetch -l password-command -d 'Take the password from the first line CMD prints (run with sh -c, e.g. "pass show mail"); CMD must exit 0' -r
complete -c pop3-fetch -l netrc-file -d 'Look the user and password up in this netrc file instead of ~/.netrc (which only its owner may access)' -r -F
complete -c pop3-fetch -l timeout -d 'Give up on a connection, lookup, read or write after SECS seconds' -r
complete -c pop3-fetch -l capabilities -d 'Print what the server offers (capabilities, TLS, login methods) and fetch nothing'
complete -c pop3-fetch -l new -d 'Fetch only messages that no earlier run stored (by UIDL, recorded in the state file)'
complete -c pop3-fetch -l delete -d 'Delete each message from the server once it is stored (download and delete); never before'
complete -c pop3-fetch -l headers-only -d 'With --max-size, store the header of a larger message (TOP n 0) instead of skipping it; the message stays on the server'
complete -c pop3-fetch -l keep-crlf -d 'Store messages with CRLF line ends, as sent (default: LF)'
complete -c pop3-fetch -l insecure -d 'Do not verify the server\'s certificate. The connection is still encrypted, but anyone in between can read it'
complete -c pop3-fetch -l oauth -d 'The password is an OAuth 2.0 access token: log in with XOAUTH2 or OAUTHBEARER'
complete -c pop3-fetch -l allow-plaintext-auth -d 'Allow a password to cross a connection that is not encrypted'
complete -c pop3-fetch -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c pop3-fetch -s v -l verbose -d 'Show the conversation with servers on stderr (`->` sent, `<-` received; `~>`/`<~` once TLS is up; secrets as `****`)'
complete -c pop3-fetch -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c pop3-fetch -s h -l help -d 'Print help (see more with \'--help\')'
complete -c pop3-fetch -s V -l version -d 'Print version'
