"""The comparison query of README's performance table, in pandas (Debian's
python3-pandas): the same as query_duckdb.js, reading the log in chunks of
1,000,000 lines so a 10M-record log fits in memory.

Usage: python3 pandas.py LOG.jsonl
"""
import json
import sys

import pandas as pd

parts = []
for chunk in pd.read_json(sys.argv[1], lines=True, chunksize=1_000_000):
    comps = pd.json_normalize(chunk["components"].tolist())
    parts.append(pd.DataFrame({
        "r": chunk["scalar_reward"].to_numpy(),
        "c1": comps["correctness"].to_numpy(),
        "c2": comps["format"].to_numpy(),
        "c3": comps["length_penalty"].to_numpy(),
    }))
df = pd.concat(parts, ignore_index=True)
roll = df["r"].rolling(100)
print(json.dumps({
    "n": len(df),
    "max_mean": roll.mean().max(),
    "max_std": roll.std().max(),
    "correctness": df["c1"].mean(),
    "format": df["c2"].mean(),
    "length_penalty": df["c3"].mean(),
}))
