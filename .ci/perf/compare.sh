#!/usr/bin/env bash
# Compares `reportgen audit` with DuckDB, Polars and pandas on the same
# rewardspy JSONL logs (README, "Performance"). Each tool computes the
# rolling 100-record mean and standard deviation of the reward and the mean
# of every component (query_*.js, query_pandas.py); goodhart runs its whole
# default audit and `--detectors rewardspy`. Wall time and peak RSS come from
# /usr/bin/time, medians of RUNS (default 3) runs.
#
#   bash .ci/perf/compare.sh            # 1M and 10M records
#   SIZES=1M bash .ci/perf/compare.sh   # 1M only
#
# The logs are the ones the benchmarks generate in $TMPDIR (goodhart-bench-1M,
# goodhart-bench-10M); they are made first when missing. DuckDB and Polars are
# the npm builds (package.json here), pandas is Debian's python3-pandas.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=${TMPDIR:-/tmp}
runs=${RUNS:-3}
sizes=${SIZES:-"1M 10M"}

if [ ! -d "$here/node_modules/@duckdb/node-api" ] || [ ! -d "$here/node_modules/nodejs-polars" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)
fi
if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pandas >/dev/null
  else
    echo "pandas missing: sudo apt-get install python3-pandas" >&2
    exit 1
  fi
fi
command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 1; }

bin=$(mktemp -d)/reportgen
(cd "$root" && go build -o "$bin" ./cmd/reportgen)

for size in $sizes; do
  log=$tmp/goodhart-bench-$size/bench.jsonl
  if [ ! -f "$log" ]; then
    (cd "$root" && go test ./cmd/reportgen -run '^$' -bench "^BenchmarkAudit$size\$" -benchtime 1x >/dev/null)
  fi
  bytes=$(stat -c %s "$log")
  echo "== $size records: $log ($((bytes / 1000000)) MB), median of $runs runs"
  printf '%-38s %9s %9s %11s\n' tool wall-s MB/s peak-RSS-MiB
  measure() {
    local name=$1; shift
    local out=() tf
    tf=$(mktemp)
    for _ in $(seq "$runs"); do
      /usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1 || true
      out+=("$(tail -1 "$tf")")
    done
    rm -f "$tf"
    printf '%s\n' "${out[@]}" | sort -n | awk -v n="$name" -v b="$bytes" -v k="$runs" \
      'NR == int((k + 1) / 2) { printf "%-38s %9.2f %9.0f %11.0f\n", n, $1, b / 1e6 / $1, $2 / 1024 }'
  }
  measure "goodhart audit" "$bin" audit "$log" --format json
  measure "goodhart audit --detectors rewardspy" "$bin" audit "$log" --format json --detectors rewardspy
  NODE_PATH=$here/node_modules measure "duckdb (npm @duckdb/node-api)" node "$here/query_duckdb.js" "$log"
  NODE_PATH=$here/node_modules measure "polars (npm nodejs-polars)" node "$here/query_polars.js" "$log"
  measure "pandas (Debian python3-pandas)" /usr/bin/python3 "$here/query_pandas.py" "$log"
done
