#!/usr/bin/env bash
# Run real OpenClaw releases on the shipped scenarios, offline, and judge what they send.
#
# For each version: `dispatch-vcr releases install` (Node 24 and that OpenClaw from the npm registry
# into a cache folder, git-ignored; with --codex the Codex runtime plugin too), then for each scenario
# of scenarios/openclaw/ run
#   dispatch-vcr run <scenario> --version <v> --stub --openclaw --record-to <dir>/<v>/<scenario>.json
# (one OpenClaw turn with the release's per-version steps; the provider stub answers; OpenClaw's
# package and plugin-catalogue look-ups are left out of the cassette; OpenClaw's output is kept in
# the cache's logs/<v>/<scenario>/), and print the verdict matrix with the wire evidence.
#
# usage: scripts/openclaw-matrix.sh [options]
#   --versions "V …"      OpenClaw versions (default: 2026.5.12 2026.5.16-beta.4 2026.9.5 2026.9.6)
#   --scenarios "NAME …"  scenario names (default: every scenarios/openclaw/*.json)
#   --record-dir DIR      where cassettes go (default: cassettes/openclaw)
#   --codex               also install the Codex runtime plugin where npm has one for the version
#                         (2026.9.4 and later; online, ~340 MB each) and run with it
#   --compare             exit 1 when a verdict differs from the committed cassette's (CI)
#   --bin PATH            the dispatch-vcr binary (default: target/release or target/debug, built if absent)
# env: OPENCLAW_CACHE (default .cache/openclaw), NODE_EXTRA_CA_CERTS is passed to plugin installs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
versions=(2026.5.12 2026.5.16-beta.4 2026.9.5 2026.9.6)
scenarios=()
record_dir=$root/cassettes/openclaw
codex=0 compare=0 bin=""
while [ $# -gt 0 ]; do
  case $1 in
    --versions) read -r -a versions <<<"$2"; shift 2 ;;
    --scenarios) read -r -a scenarios <<<"$2"; shift 2 ;;
    --record-dir) record_dir=$2; shift 2 ;;
    --codex) codex=1; shift ;;
    --compare) compare=1; shift ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "openclaw-matrix: unknown option $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
if [ ${#scenarios[@]} -eq 0 ]; then
  for file in "$root"/scenarios/openclaw/*.json; do scenarios+=("$(basename "$file" .json)"); done
fi
mkdir -p "${OPENCLAW_CACHE:-$root/.cache/openclaw}" "$record_dir"
cache=$(cd "${OPENCLAW_CACHE:-$root/.cache/openclaw}" && pwd)
record_dir=$(cd "$record_dir" && pwd)
if [ -z "$bin" ]; then
  for bin in "$root/target/release/dispatch-vcr" "$root/target/debug/dispatch-vcr" ""; do [ -x "$bin" ] && break; done
  if [ -z "$bin" ]; then
    (cd "$root" && cargo build -q)
    bin=$root/target/debug/dispatch-vcr
  fi
fi
say() { echo "openclaw-matrix: $*" >&2; }

# Shipped cassettes name their JSON Schema (an editor hint, relative to the file) on their second line.
name_schema() {
  [ -f "$1" ] && ! sed -n 2p "$1" | grep -q '"\$schema"' || return 0
  local schema
  schema=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], os.path.dirname(sys.argv[2])))' \
    "$root/docs/schema/cassette-v1.json" "$1")
  sed -i "1a\\  \"\$schema\": \"$schema\"," "$1"
}

declare -A results
# One results file per invocation, so matrices on different versions can share the cache.
results_file=$cache/results.$$.txt
for v in "${versions[@]}"; do
  install=(releases install "$v" --cache "$cache")
  [ $codex = 1 ] && install+=(--codex)
  "$bin" "${install[@]}" >/dev/null
  for s in "${scenarios[@]}"; do
    report=$cache/reports/$v/$s.json
    mkdir -p "$(dirname "$report")" "$record_dir/$v"
    started=$(date +%s)
    set +e
    "$bin" run "$root/scenarios/openclaw/$s.json" --version "$v" --stub --openclaw --cache "$cache" \
      --record-to "$record_dir/$v/$s.json" --format json -o "$report" >"$cache/reports/$v/$s.out" 2>"$cache/reports/$v/$s.err"
    status=$?
    set -e
    name_schema "$record_dir/$v/$s.json"
    results[$v/$s]="$status $(($(date +%s) - started))"
    say "$v $s: exit $status in $(($(date +%s) - started)) s"
  done
done

# The matrix, each cell explained by what went on the wire and what OpenClaw logged.
for key in "${!results[@]}"; do echo "$key ${results[$key]}"; done >"$results_file"
python3 - "$root" "$cache" "$record_dir" "$bin" "$compare" "${versions[*]}" "${scenarios[*]}" "$results_file" <<'PY'
import json, os, subprocess, sys
root, cache, record_dir, binary, compare = sys.argv[1:6]
versions, scenarios = sys.argv[6].split(), sys.argv[7].split()
results = {key: rest for key, *rest in (line.split() for line in open(sys.argv[8]))}
symbols = {"pass": "✓", "fail": "✗", "expected_failure": "⚠", "fixed": "★", "reference_failure": "‽"}

def cell(version, scenario):
    path = f"{cache}/reports/{version}/{scenario}.json"
    if not os.path.exists(path):
        return None
    return json.load(open(path))["scenarios"][0]["cells"][0]

def committed(scenario):
    """Verdicts from the committed cassettes alone (what `check` says)."""
    out = subprocess.run([binary, "check", f"{root}/scenarios/openclaw/{scenario}.json", "--format", "json"],
                         capture_output=True, text=True)
    if out.returncode > 1:
        return {}
    return {c["version"]: c["verdict"] for s in json.loads(out.stdout)["scenarios"] for c in s["cells"]}

width = max(len(v) for v in versions)
print("OpenClaw release × scenario (live run under the provider stub)\n")
print(f"{'version':<{width}}" + "".join(f"{n + 1:>3}" for n in range(len(scenarios))))
for v in versions:
    row = ""
    for s in scenarios:
        c = cell(v, s)
        row += f"  {symbols.get(c['verdict'], '?') if c else '!'}"
    print(f"{v:<{width}}{row}")
print()
for n, s in enumerate(scenarios):
    print(f"{n + 1:>3}  {s}")
print("\n✓ pass   ⚠ expected failure   ✗ fail   ★ fixed   ‽ reference failure   ! harness failure\n")
differences = []
for s in scenarios:
    before = committed(s) if compare == "1" else {}
    for v in versions:
        status, seconds = results.get(f"{v}/{s}", ["?", "?"])
        c = cell(v, s)
        if c is None:
            print(f"! {s} @ {v}: dispatch-vcr exited {status}; see {cache}/reports/{v}/{s}.err")
            differences.append(f"{s} @ {v}: no verdict (exit {status})")
            continue
        print(f"{symbols[c['verdict']]} {s} @ {v}: {c['verdict'].replace('_', ' ')} ({seconds} s)")
        for inv in c["invariants"]:
            for f in inv.get("failures", []):
                print(f"    {inv['invariant']}: {f['message']} (expected {f['expected']}; actual {f['actual']})")
        for line in c.get("dispatcher_log", []):
            print(f"    {line}")
        if compare == "1" and v in before and before[v] != c["verdict"]:
            differences.append(f"{s} @ {v}: live {c['verdict']}, committed cassette {before[v]}")
if differences:
    print("\nverdicts that differ from the committed cassettes:" if compare == "1" else "\nharness failures:")
    for d in differences:
        print(f"  {d}")
    sys.exit(1)
PY
