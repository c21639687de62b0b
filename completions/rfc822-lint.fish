complete -c rfc822-lint -l allow -d 'Do not report RULE (repeatable, or comma-separated)' -r
complete -c rfc822-lint -l deny -d 'Report RULE as an error (repeatable, or comma-separated)' -r
complete -c rfc822-lint -l strict -d 'Count warnings as errors for the exit status'
complete -c rfc822-lint -l smtputf8 -d 'Accept UTF-8 in header fields (RFC 6532, for SMTPUTF8 mail)'
complete -c rfc822-lint -l fix -d 'Write the message repaired to stdout (one input only); findings go to stderr'
complete -c rfc822-lint -l crlf -d 'With --fix, write CRLF line ends instead of LF'
complete -c rfc822-lint -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c rfc822-lint -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c rfc822-lint -s v -l verbose -d 'Accepted, as by every mailkit tool, and changes nothing: rfc822-lint talks to no server and has no transcript to show'
complete -c rfc822-lint -s h -l help -d 'Print help (see more with \'--help\')'
complete -c rfc822-lint -s V -l version -d 'Print version'
