complete -c mx-lookup -l server -d 'Ask this resolver (UDP, then TCP when the answer is truncated) instead of the system\'s (/etc/resolv.conf)' -r
complete -c mx-lookup -l concurrency -d 'How many domains to look up at once' -r
complete -c mx-lookup -l port -d 'Connect to PORT instead of the URL\'s (or the scheme\'s default)' -r
complete -c mx-lookup -l tls -d 'How to use TLS. Default: implicit for smtps, pop3s and imaps; starttls (required, or fail with status 76) for the others' -r -f -a "implicit\t'TLS from the first byte (smtps, pop3s, imaps; RFC 8314)'
starttls\t'Plain connection upgraded with STARTTLS/STLS; fail (76) when the server does not offer it'
opportunistic\t'STARTTLS/STLS when the server offers it, plain text otherwise'
none\t'No TLS at all'"
complete -c mx-lookup -l cafile -d 'Trust the certificates in this PEM file instead of the system\'s roots (a private CA or a self-signed server, as curl\'s --cacert); the host name is still checked' -r -F
complete -c mx-lookup -l fingerprint -d 'Accept only the server certificate with this SHA-256 fingerprint (hex, colons optional, as `openssl x509 -fingerprint -sha256` prints it), whoever signed it' -r
complete -c mx-lookup -l helo -d 'The name to give in EHLO (default: this host\'s fully qualified name, from the kernel or /etc/hosts, else the address literal of this end of the connection, e.g. [192.0.2.1]; RFC 5321 §4.1.1.1)' -r
complete -c mx-lookup -l timeout -d 'Give up on a domain\'s lookup after SECS seconds (default 15: a resolver answers fast or not at all; questions are sent again within it, and a refused one, nothing listening, ends at once); with --probe, also on each connection, read or write (default 60, as in every mailkit tool)' -r
complete -c mx-lookup -l no-addresses -d 'Do not look up the exchanges\' A and AAAA records'
complete -c mx-lookup -l probe -d 'Connect to each exchange\'s first address (A before AAAA) and report what a sending server sees: the banner, EHLO and its extensions, STARTTLS with the TLS version and the certificate verdict, and the time of each step. Nothing is sent beyond EHLO, STARTTLS and QUIT. Probe failures are reported, but do not change the exit status'
complete -c mx-lookup -l insecure -d 'Do not verify the server\'s certificate. The connection is still encrypted, but anyone in between can read it'
complete -c mx-lookup -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c mx-lookup -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c mx-lookup -s v -l verbose -d 'Show on stderr each DNS question with the resolver asked (`->`) and its answer, or why none came (`<-`); with --probe, also the conversation with each exchange (`->` sent, `<-` received; `~>`/`<~` once TLS is up)'
complete -c mx-lookup -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mx-lookup -s V -l version -d 'Print version'
