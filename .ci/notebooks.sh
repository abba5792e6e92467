#!/usr/bin/env bash
# Executes every notebook in notebooks/ top to bottom under real Jupyter and
# GoNB, and fails on any error cell. Installs what it needs:
#   - Debian's Jupyter (nbconvert, nbclient, jupyter-client, jupyter-core);
#   - gonb and goimports at pinned versions through a throwaway tools module
#     (`go install gonb@version` fails here: the proxy refuses gonb's
#     version list);
#   - the GoNB kernel spec.
# By default the executed copies go to a temporary directory and the tree is
# left alone. NOTEBOOKS_INPLACE=1 writes the outputs back into notebooks/
# (do that before committing, so the notebooks read well on a code host).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

GONB_VERSION=v0.11.1
GOIMPORTS_VERSION=v0.52.0

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

# Debian's jupyter runs on /usr/bin/python3; another python3 earlier on
# PATH cannot see the Debian modules, so call both by absolute path.
PY=/usr/bin/python3
JUPYTER=/usr/bin/jupyter
if ! [ -x "$JUPYTER" ] || ! "$PY" -c 'import nbclient, nbconvert, jupyter_client' 2>/dev/null; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "notebooks: Jupyter is missing and apt-get is not available: install jupyter-nbconvert and python3-nbclient" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends jupyter-nbconvert python3-nbclient \
    python3-jupyter-client jupyter-core >/dev/null
fi

if ! command -v gonb >/dev/null 2>&1 || ! command -v goimports >/dev/null 2>&1 \
   || ! gonb -V 2>/dev/null | grep -q "$GONB_VERSION"; then
  tools=$(mktemp -d)
  trap 'rm -rf "$tools"' EXIT
  (
    cd "$tools"
    go mod init goodhart-notebook-tools >/dev/null 2>&1
    go get -tool "github.com/janpfeifer/gonb@$GONB_VERSION"
    go get -tool "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
    GOBIN="$gobin" go install tool
  )
fi
echo "gonb: $(command -v gonb)"

# Register the kernel (idempotent). gopls is optional when nothing edits
# interactively; --force_deps skips the check for it.
gonb --install --force_deps >/dev/null 2>&1 || gonb --install --force_deps
"$PY" -c 'from jupyter_client.kernelspec import KernelSpecManager as K; print("kernel:", K().get_kernel_spec("gonb").argv[0])' \
  || { echo "notebooks: the gonb kernel did not register" >&2; exit 1; }

out=$(mktemp -d)
status=0
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -eq 0 ]; then
  echo "notebooks: no notebooks in notebooks/" >&2
  exit 1
fi
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb")
  echo "+ $nb"
  t0=$(date +%s)
  args=(--to notebook --execute --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.kernel_name=gonb)
  if [ "${NOTEBOOKS_INPLACE:-0}" = 1 ]; then
    args+=(--inplace)
    result="$nb"
  else
    args+=(--output-dir "$out")
    result="$out/$name"
  fi
  if ! "$JUPYTER" nbconvert "${args[@]}" "$nb" >"$out/$name.log" 2>&1; then
    echo "notebooks: $nb failed:" >&2
    tail -n 40 "$out/$name.log" >&2
    status=1
    continue
  fi
  # nbconvert stops at a failing cell, but a cell can also print an error
  # output without failing the kernel reply: check every output.
  if ! "$PY" - "$result" <<'PY'
import json, sys
nb = json.load(open(sys.argv[1]))
bad = []
for i, cell in enumerate(nb.get("cells", []), 1):
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            bad.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
        elif o.get("output_type") == "stream" and o.get("name") == "stderr":
            text = "".join(o.get("text", []))
            if "panic:" in text or "compilation failed" in text.lower() or "exit status" in text:
                bad.append(f"cell {i}: stderr: {text.strip()[:300]}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
  then
    echo "notebooks: $nb has error outputs" >&2
    status=1
    continue
  fi
  echo "  ok ($(( $(date +%s) - t0 ))s)"
done
# README and notebook 01 tell users how to use goodhart from a notebook
# outside this repository: run that recipe from a directory outside it.
echo "+ a notebook outside the repository (the recipe in notebooks/01)"
outside=$(mktemp -d)
"$PY" - "$outside/outside.ipynb" "$root" <<'PY'
import json, sys
path, root = sys.argv[1], sys.argv[2]
cells = [
    "!*go mod edit -require=github.com/goodhart-rl/goodhart@v0.0.0 -replace=github.com/goodhart-rl/goodhart=" + root,
    "import (\n\t\"github.com/goodhart-rl/goodhart/analysis\"\n\t\"github.com/goodhart-rl/goodhart/ingest\"\n"
    "\t\"github.com/goodhart-rl/goodhart/plots\"\n\t\"github.com/goodhart-rl/goodhart/plots/gonbdisplay\"\n)\n\n%%\n"
    "run, err := ingest.ReadFile(\"" + root + "/testdata/runs/hacked.jsonl\", ingest.Options{})\n"
    "if err != nil {\n\tpanic(err)\n}\n"
    "rep, err := analysis.Audit(run, analysis.Config{})\nif err != nil {\n\tpanic(err)\n}\n"
    "gonbdisplay.Audit(rep)\n"
    "r := plots.BuildReport([]*plots.RunReport{{Run: run, Audit: rep}}, plots.Options{}, nil)\n"
    "if err := gonbdisplay.Report(r); err != nil {\n\tpanic(err)\n}\n"
    "fmt.Println(\"outside notebook: verdict\", rep.Verdict)\n",
]
nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": c} for c in cells],
      "metadata": {"kernelspec": {"display_name": "Go (gonb)", "language": "go", "name": "gonb"}},
      "nbformat": 4, "nbformat_minor": 5}
json.dump(nb, open(path, "w"))
PY
if ! (cd "$outside" && "$JUPYTER" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 \
      --ExecutePreprocessor.kernel_name=gonb --inplace outside.ipynb >"$out/outside.log" 2>&1) \
   || ! grep -q "outside notebook: verdict hacking" "$outside/outside.ipynb"; then
  echo "notebooks: the outside-the-repository recipe failed:" >&2
  tail -n 40 "$out/outside.log" >&2
  status=1
else
  echo "  ok"
fi
rm -rf "$outside" "$out"
exit $status
