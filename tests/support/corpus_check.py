"""Reads every message named on the command line with Python's standard
email package (policy.default) and prints one JSON line per message: its
leaf parts in walk order (a message/rfc822 part is walked into, as mailkit
does; other message/* parts are leaves), each with its type, file name, declared disposition and the SHA-256
of its decoded bytes; or the error when Python could not read it. The
corpus test (tests/corpus.rs) compares this with mime-unpack."""

import email
import email.policy
import hashlib
import json
import sys



def walked_into(part):
    return part.get_content_maintype() != "message" or part.get_content_type() in (
        "message/rfc822",
        "message/global",
    )


def walk(part):
    """Like Message.walk, but a message/* part other than message/rfc822
    (and message/global) is not walked into."""
    yield part
    if part.is_multipart() and walked_into(part):
        for child in part.get_payload():
            yield from walk(child)


for path in sys.argv[1:]:
    record = {"path": path}
    try:
        raw = open(path, "rb").read()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        leaves = []
        for part in walk(msg):
            if part.is_multipart() and walked_into(part):
                continue
            if part.is_multipart():
                # message/delivery-status, message/external-body,
                # message/partial: Python parses their bodies into header
                # blocks; mailkit (and RFC 2046 §5.2, RFC 3464 §2.1) keep
                # them as one body, so only the type and name are compared.
                payload = None
            else:
                payload = part.get_payload(decode=True) or b""
            try:
                filename = part.get_filename()
            except Exception as e:  # a name Python cannot decode
                filename = f"<error {e!r}>"
            leaves.append(
                {
                    "type": part.get_content_type(),
                    "filename": filename,
                    "disposition": part.get_content_disposition(),
                    "sha256": None
                    if payload is None
                    else hashlib.sha256(payload).hexdigest(),
                }
            )
        record["leaves"] = leaves
    except Exception as e:
        record["error"] = repr(e)
    print(json.dumps(record))
