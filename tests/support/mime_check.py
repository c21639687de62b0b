"""Reads one message (path in argv[1]) with Python's standard email package
(policy.default) and prints what it found as JSON: defects anywhere, the
decoded header fields, and every leaf part with the SHA-256 of its decoded
bytes. The mailkit tests compare this with what they put in."""

import email
import email.policy
import hashlib
import json
import sys

raw = open(sys.argv[1], "rb").read()
msg = email.message_from_bytes(raw, policy=email.policy.default)

defects = [f"message: {d!r}" for d in msg.defects]
for part in msg.walk():
    defects += [f"part {part.get_content_type()}: {d!r}" for d in part.defects]
    for name, value in part.items():
        defects += [f"header {name}: {d!r}" for d in getattr(value, "defects", ())]

parts = []
for part in msg.walk():
    if part.is_multipart():
        continue
    payload = part.get_payload(decode=True) or b""
    parts.append(
        {
            "type": part.get_content_type(),
            "filename": part.get_filename(),
            "cte": str(part.get("Content-Transfer-Encoding", "")),
            "charset": part.get_param("charset"),
            "content_id": str(part.get("Content-ID", "")) or None,
            "disposition": part.get_content_disposition(),
            "sha256": hashlib.sha256(payload).hexdigest(),
            "size": len(payload),
        }
    )

print(
    json.dumps(
        {
            "defects": defects,
            "subject": str(msg.get("Subject", "")),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "structure": [p.get_content_type() for p in msg.walk()],
            "parts": parts,
        }
    )
)
