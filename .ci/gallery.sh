#!/usr/bin/env bash
# Figure gallery: draws every figure kind (`reportgen plot --figure K`) on real
# logs of different kinds, writes `reportgen report` for three of them, and
# renders each report page to PNG in headless Chromium. Fails when a figure
# that applies cannot be drawn, when a report fails, or when a page logs
# console messages or renders blank. Look at the PNGs: that is the point.
#
# Logs: the real ones in testdata/realdata and testdata/ (always), plus the
# logs in ../shared/realdata when that folder exists (skipped with a message
# in a plain clone). Output goes to $GALLERY_DIR (default: a temporary
# directory, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${GALLERY_DIR:-$(mktemp -d)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin="$out/reportgen"
go build -o "$bin" ./cmd/reportgen

kinds=$(sed -n 's/.*--figure \([a-z|]*\).*/\1/p' <<<"$("$bin" plot --help 2>&1)" | head -1 | tr '|' ' ')
[ -n "$kinds" ] || { echo "gallery: cannot read the figure kinds from reportgen plot --help" >&2; exit 1; }

# name | path | --expected weights ("" = none) | report? (1/0) | extra flags
runs=(
  "verl-qwen2-math|testdata/realdata/verl_qwen2-7b_math.log.gz||1"
  "rewardspy-hacked|testdata/runs/hacked.jsonl|correctness=0.7,format=0.3|1"
  "trl-grpo-collapse|testdata/trainers/trl_grpo_collapse.json|accuracy=0.8,format_bonus=0.2|1"
  "sb3-monitor|testdata/trainers/monitor.csv||0"
  "rewardguard-snake|testdata/rewardguard/snake.log|food=60,survival=40|0"
)
shared="$root/../shared/realdata"
if [ -d "$shared" ]; then
  runs+=(
    "sb3-energy-monitor|$shared/Dkurkcu__energy_penalty_applications_final/logs__monitor.csv||1"
    "sb3-hopper-tensorboard|$shared/MoniFarsang__ppo-clipping-approaches/logs__ppo__HopperBulletEnv-v0_1__HopperBulletEnv-v0__PPO_1__events.out.tfevents.1611600981.042104f03417.9660.0||0"
    "trl-grpo-chaos-economy|$shared/Rusheel86__Chaos-Economy/trainer_state.json|pnl_reward_fn=0.4,risk_reward_fn=0.2,format_reward_fn=0.1,diversity_reward_fn=0.15,oversight_reward_fn=0.15|1"
    "verl-grpo-gsm8k|$shared/yushengsu-thu__verl_training_log/gsm8k__grpo_run_deepseek7b_llm.log||1"
    "trl-dpo|$shared/202520030411__Distill-Safety-Aligned-Models/outputs__dpo__trainer_state.json||0"
    "trl-dapo-tensorboard|$shared/JuncyLu__trl_DAPO/grpo-Qwen2.5-VL-3B-Instruct__runs__Oct22_12-05-31_instance-20251002-112605__events.out.tfevents.1761134743.instance-20251002-112605.176000.0||0"
  )
else
  echo "gallery: ../shared/realdata is absent: drawing the logs in testdata/ only"
fi

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
done

status=0
drawn=0
reports=0
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for entry in "${runs[@]}"; do
  IFS='|' read -r name path expected report flags <<<"$entry"
  if [ ! -f "$path" ]; then
    echo "gallery: $name: $path is missing" >&2
    status=1
    continue
  fi
  exp=()
  [ -n "$expected" ] && exp=(--expected "$expected")
  # shellcheck disable=SC2206 # flags are words, split on purpose
  [ -n "${flags:-}" ] && exp+=($flags)
  line="$name:"
  for k in $kinds; do
    if { [ "$k" = balance ] || [ "$k" = session ]; } && [ -z "$expected" ]; then
      continue
    fi
    png="$out/$name-$k.png"
    set +e
    "$bin" plot "$path" --figure "$k" -o "$png" "${exp[@]}" >"$out/$name-$k.log" 2>&1
    code=$?
    set -e
    if [ "$code" -eq 0 ] && [ -s "$png" ]; then
      line+=" $k"
      drawn=$((drawn + 1))
    elif grep -q "nothing to draw" "$out/$name-$k.log"; then
      : # the figure does not apply to this run
    else
      echo "gallery: $name --figure $k failed (exit $code):" >&2
      cat "$out/$name-$k.log" >&2
      status=1
    fi
  done
  echo "$line"
  if [ "$report" = 1 ]; then
    html="$out/$name-report.html"
    set +e
    "$bin" report "$path" -o "$html" "${exp[@]}" >"$out/$name-report.log" 2>&1
    code=$?
    set -e
    if [ "$code" -gt 1 ] || [ ! -s "$html" ]; then
      echo "gallery: report of $name failed (exit $code):" >&2
      cat "$out/$name-report.log" >&2
      status=1
      continue
    fi
    reports=$((reports + 1))
    if [ -z "$browser" ]; then
      echo "  report: $html (no Chromium: not rendered; apt-get install -y chromium)"
      continue
    fi
    shot="$out/$name-report.png"
    timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --enable-logging=stderr --v=0 --hide-scrollbars \
      --screenshot="$shot" --window-size=1400,6000 "file://$html" >"$out/$name-chromium.log" 2>&1 || {
      echo "gallery: chromium failed on $html:" >&2
      tail -n 20 "$out/$name-chromium.log" >&2
      status=1
      continue
    }
    if grep -E ':CONSOLE[:(]|Uncaught|Refused to' "$out/$name-chromium.log" >&2; then
      echo "gallery: $html logged console messages (above)" >&2
      status=1
    fi
    size=$(wc -c <"$shot")
    if [ "$size" -lt 50000 ]; then
      echo "gallery: $shot is only $size bytes: the page looks blank" >&2
      status=1
    fi
    echo "  report: $shot ($size bytes)"
  fi
done
echo "gallery: $drawn figures and $reports reports in $out"
[ "$drawn" -ge 10 ] || { echo "gallery: only $drawn figures drawn" >&2; status=1; }
exit $status
