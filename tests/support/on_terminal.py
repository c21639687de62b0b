"""Runs a command with a pseudo-terminal as stdin, types the given text
(then Ctrl-D), and prints what it wrote as JSON: stdout, stderr, status."""
import json
import os
import subprocess
import sys

typed = sys.argv[1].encode()
master, slave = os.openpty()
child = subprocess.Popen(
    sys.argv[2:], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE
)
os.close(slave)
# Canonical mode: each line goes to the reader as typed, Ctrl-D at the
# start of a line is the end of input.
os.write(master, typed + b"\x04")
try:
    out, err = child.communicate(timeout=30)
except subprocess.TimeoutExpired:
    child.kill()
    out, err = child.communicate()
    err += b"\n(still reading after Ctrl-D: killed)"

os.close(master)
print(json.dumps({"stdout": out.decode(), "stderr": err.decode(), "status": child.returncode}))
