complete -c imap-list -l folder -d 'The folder to list or fetch from, in UTF-8 (instead of the URL\'s); with --new it may be repeated' -r
complete -c imap-list -l limit -d 'List only the newest N messages (those with the highest UIDs)' -r
complete -c imap-list -l search -d 'List only the messages matching these IMAP search keys (RFC 3501 §6.4.4), e.g. \'UNSEEN SINCE 1-Nov-2026\' or \'FROM "Jane Doe"\'' -r
complete -c imap-list -l fetch -d 'Fetch the messages with these UIDs: one to stdout, raw; several into --maildir or --mbox' -r
complete -c imap-list -l structure -d 'Print the MIME structure of message UID (from BODYSTRUCTURE, as mime-unpack shows a message) without downloading it' -r
complete -c imap-list -l part -d 'Write part PART (a part number, as --structure shows) of message UID to stdout, decoded' -r
complete -c imap-list -l maildir -d 'Store messages in this Maildir (created with cur, new and tmp when missing)' -r -F
complete -c imap-list -l mbox -d 'Append messages to this mbox file (mboxrd)' -r -F
complete -c imap-list -l state -d 'The state file of --new (default: $XDG_STATE_HOME/mailkit/imap-USER@HOST:PORT)' -r -F
complete -c imap-list -l port -d 'Connect to PORT instead of the URL\'s (or the scheme\'s default)' -r
complete -c imap-list -l tls -d 'How to use TLS. Default: implicit for smtps, pop3s and imaps; starttls (required, or fail with status 76) for the others' -r -f -a "implicit\t'TLS from the first byte (smtps, pop3s, imaps; RFC 8314)'
starttls\t'Plain connection upgraded with STARTTLS/STLS; fail (76) when the server does not offer it'
opportunistic\t'STARTTLS/STLS when the server offers it, plain text otherwise'
none\t'No TLS at all'"
complete -c imap-list -l cafile -d 'Trust the certificates in this PEM file instead of the system\'s roots (a private CA or a self-signed server, as curl\'s --cacert); the host name is still checked' -r -F
complete -c imap-list -l fingerprint -d 'Accept only the server certificate with this SHA-256 fingerprint (hex, colons optional, as `openssl x509 -fingerprint -sha256` prints it), whoever signed it' -r
complete -c imap-list -l user -d 'Log in as USER (instead of the URL\'s user)' -r
complete -c imap-list -l password-file -d 'Read the password from the first line of FILE, which only its owner may access (chmod 600)' -r -F
complete -c imap-list -l password-env -d 'Take the password from the environment variable VAR' -r
complete -c imap-list -l password-command -d 'Take the password from the first line CMD prints (run with sh -c, e.g. "pass show mail"); CMD must exit 0' -r
complete -c imap-list -l netrc-file -d 'Look the user and password up in this netrc file instead of ~/.netrc (which only its owner may access)' -r -F
complete -c imap-list -l timeout -d 'Give up on a connection, lookup, read or write after SECS seconds' -r
complete -c imap-list -l all-folders -d 'With --new: every folder that can be opened'
complete -c imap-list -l capabilities -d 'Print what the server offers (capabilities, TLS) and log in to nothing'
complete -c imap-list -l new -d 'Store only messages that no earlier run stored (download and keep: the state file remembers what was stored); needs --maildir or --mbox'
complete -c imap-list -l keep-crlf -d 'Store and write messages with CRLF line ends, as sent (default: LF)'
complete -c imap-list -l insecure -d 'Do not verify the server\'s certificate. The connection is still encrypted, but anyone in between can read it'
complete -c imap-list -l oauth -d 'The password is an OAuth 2.0 access token: log in with XOAUTH2 or OAUTHBEARER'
complete -c imap-list -l allow-plaintext-auth -d 'Allow a password to cross a connection that is not encrypted'
complete -c imap-list -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c imap-list -s v -l verbose -d 'Show the conversation with servers on stderr (`->` sent, `<-` received; `~>`/`<~` once TLS is up; secrets as `****`)'
complete -c imap-list -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c imap-list -s h -l help -d 'Print help (see more with \'--help\')'
complete -c imap-list -s V -l version -d 'Print version'
