#!/usr/bin/env python3
"""A misbehaving reward command, for goodhart's tests of failure handling.

It scores len(response)/100, except when the response contains a trigger:
  CRASH   exit with status 3 (after a traceback-like line on stderr)
  HANG    sleep forever
  GARBAGE print a debug line that is not JSON
  NAN     print NaN (what json.dumps writes for float("nan"))
  NONE    print null (the function returned None)
  RAISE   print {"error": "..."} (the function raised)
  BANNER  (as an argument to the script, not a case) print a banner first
"""
import json
import sys
import time


def main():
    if "BANNER" in sys.argv[1:]:
        print("reward server v1 ready")
        sys.stdout.flush()
    for line in sys.stdin:
        case = json.loads(line)
        args, kwargs = case.get("args", []), case.get("kwargs", {})
        response = kwargs.get("response", args[0] if args else "")
        if "CRASH" in response:
            sys.stderr.write("RuntimeError: boom on purpose\n")
            sys.stderr.flush()
            sys.exit(3)
        if "HANG" in response:
            time.sleep(3600)
        if "GARBAGE" in response:
            out = "debug: looking at " + response
        elif "NAN" in response:
            out = json.dumps(float("nan"))
        elif "NONE" in response:
            out = json.dumps(None)
        elif "RAISE" in response:
            out = json.dumps({"error": "ValueError: cannot score this"})
        else:
            out = json.dumps(len(response) / 100.0)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
