complete -c mime-pack -l attach -d 'Also attach this file (repeatable; same syntax as the arguments)' -r
complete -c mime-pack -l body -d 'Read the text body from FILE instead of stdin' -r -F
complete -c mime-pack -l html -d 'Add FILE as an HTML alternative to the text (multipart/alternative)' -r -F
complete -c mime-pack -l inline -d 'Add an image the HTML shows as cid:ID (FILE[;cid=ID]; ID defaults to the file name) in multipart/related (repeatable)' -r
complete -c mime-pack -l from -d 'From: address(es). Without it (and without --header \'From: ...\'), as mail(1): $EMAIL, else LOGIN@HOST (the login name at this host\'s fully qualified name)' -r
complete -c mime-pack -l to -d 'To: address(es) (repeatable; each may be a comma-separated list)' -r
complete -c mime-pack -l cc -d 'Cc: address(es) (repeatable)' -r
complete -c mime-pack -l bcc -d 'Bcc: address(es) (repeatable; `smtp-send -t` sends to them and removes the field)' -r
complete -c mime-pack -l reply-to -d 'Reply-To: address(es) (repeatable)' -r
complete -c mime-pack -l subject -d 'Subject: (RFC 2047-encoded when not ASCII)' -r
complete -c mime-pack -l header -d 'Any other field, as \'Name: value\' (repeatable). A Date or Message-ID given so replaces the one mime-pack makes; a field that RFC 5322 allows once (From, To, Subject, ...) given twice, here and by its flag, is refused (64)' -r
complete -c mime-pack -l no-body -d 'No text body: do not read stdin'
complete -c mime-pack -l message -d 'Stdin is a complete message: keep its header fields, add the attachments (to its multipart/mixed, or around its body)'
complete -c mime-pack -l no-legacy-names -d 'Announce non-ASCII file names only in the RFC 2231 form, without the RFC 2047 `name=` that older mail readers need but RFC 2047 §5 does not allow (strict parsers such as Python\'s report it as a defect)'
complete -c mime-pack -l crlf -d 'Write CRLF line ends instead of LF'
complete -c mime-pack -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c mime-pack -s v -l verbose -d 'Accepted, as by every mailkit tool, and changes nothing: mime-pack talks to no server and has no transcript to show'
complete -c mime-pack -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mime-pack -s V -l version -d 'Print version'
