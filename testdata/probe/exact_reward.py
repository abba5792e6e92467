#!/usr/bin/env python3
"""A sound exact-match reward, speaking goodhart's JSONL probe protocol.

Protocol (one JSON object per line, both ways):
  stdin : {"args": [...], "kwargs": {...}}   one case
  stdout: 1.0 | {"correctness": 1.0, ...} | {"error": "..."}   one result, same order

Run it under goodhart:
  reportgen probe --cmd python3 --cmd testdata/probe/exact_reward.py \
      -p testdata/probe/cases.json --hacks

The reward pays 1 only when the *final* answer (the last \\boxed{...}, else
the last "Answer: ..." line, else the last non-empty line) equals the
reference answer after normalisation (case, spaces, a trailing period).
Length, repetition and format tokens earn nothing.
"""
import json
import re
import sys

BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
MARKED = re.compile(r"(?im)^[ \t>*#]*(?:\*\*)?(?:final answer|answer)(?:\*\*)?\s*:(?:\*\*)?[ \t]*(.*)$")


def normalise(s):
    s = " ".join(str(s).split()).strip().lower()
    return s.rstrip(".").strip()


def final_answer(response):
    boxed = BOXED.findall(response)
    if boxed:
        return boxed[-1]
    marked = MARKED.findall(response)
    if marked:
        return marked[-1]
    lines = [ln for ln in response.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def reward(response, answer):
    ok = normalise(final_answer(response)) == normalise(answer)
    return {"correctness": 1.0 if ok else 0.0}


def serve(fn):
    """Read cases from stdin, write one result per line to stdout."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            result = fn(*case.get("args", []), **case.get("kwargs", {}))
        except Exception as exc:  # report per case, keep serving
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(reward)
