complete -c mime-unpack -s d -l dir -d 'Where --extract writes (created if missing)' -r -F
complete -c mime-unpack -l message -d 'Work on message N (from 1) of an mbox, not the first' -r
complete -c mime-unpack -l part -d 'Write part ID (e.g. 2 or 1.2) to stdout: a leaf decoded, a message or multipart part as it stands (see PARTS); its bytes, so not with --json' -r
complete -c mime-unpack -l extract -d 'Write every attachment into DIR and print the paths written'
complete -c mime-unpack -l all -d 'With --extract, also write the body parts (unnamed text, HTML, the images it shows)'
complete -c mime-unpack -l text -d 'Print the readable body as UTF-8: the text/plain part, else the HTML rendered as text (plain text, so not with --json)'
complete -c mime-unpack -l json -d 'Print JSON Lines on stdout: one object per record, snake_case keys'
complete -c mime-unpack -s q -l quiet -d 'Print no warnings or notes on stderr; errors are still printed'
complete -c mime-unpack -s v -l verbose -d 'Accepted, as by every mailkit tool, and changes nothing: mime-unpack talks to no server and has no transcript to show'
complete -c mime-unpack -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mime-unpack -s V -l version -d 'Print version'
