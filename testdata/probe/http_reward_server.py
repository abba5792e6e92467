#!/usr/bin/env python3
"""A reward function behind HTTP, speaking goodhart's probe protocol.

  POST /   body {"args": [...], "kwargs": {...}}   (one case, application/json)
  200      body 1.0 | {"correctness": 1.0, ...}
  4xx/5xx  body {"error": "..."}   (reported for that case, never a reward)

Start it, then probe it:
  python3 testdata/probe/http_reward_server.py 8765 &
  reportgen probe --url http://127.0.0.1:8765/ -p testdata/probe/cases.json --hacks

It serves exact_reward.reward from the same directory.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exact_reward import reward  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
            case = json.loads(self.rfile.read(n))
            result = reward(*case.get("args", []), **case.get("kwargs", {}))
            self.reply(200, result)
        except Exception as exc:
            self.reply(400, {"error": f"{type(exc).__name__}: {exc}"})

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep stderr quiet
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sys.stderr.write(f"reward server on http://127.0.0.1:{port}/\n")
    server.serve_forever()
