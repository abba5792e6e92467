#!/usr/bin/env python3
"""A deliberately EXPLOITABLE reward (do not train with this).

It pays for things a policy can produce without solving the task:
  - format: 0.5 for any answer marker or tag, right or wrong;
  - length: up to 0.5 for longer responses (400 characters earn it all);
  - correctness: 1 when the answer appears *anywhere* in the response, so
    listing many guesses earns it.

`reportgen probe --hacks` flags it (exit 1); compare exact_reward.py.
Same JSONL protocol as exact_reward.py.
"""
import json
import sys


def reward(response, answer):
    has_format = any(tok in response for tok in ("<answer>", "\\boxed", "Final answer", "Answer:"))
    return {
        "correctness": 1.0 if str(answer).strip() in response else 0.0,
        "format": 0.5 if has_format else 0.0,
        "length": 0.5 * min(len(response) / 400.0, 1.0),
    }


def serve(fn):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            result = fn(*case.get("args", []), **case.get("kwargs", {}))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(reward)
