#!/usr/bin/env python3
"""A reward command that breaks the protocol: it prints two result lines
for every case (a common bug: print() of the result and of a debug copy).
goodhart's probe must fail these cases, not pair the extra lines with the
next cases."""
import json
import sys

for line in sys.stdin:
    case = json.loads(line)
    args = case.get("args", [])
    r = len(args[0]) / 100 if args else 0.0
    print(json.dumps(r))
    print(json.dumps(r))
    sys.stdout.flush()
