#!/usr/bin/env bash
# Reproduce BENCHMARKS.md: dispatch-vcr against a direct connection, hudsucker
# and mitmproxy's mitmdump, all on loopback, in one run (benches/proxy, built as
# the dispatch-vcr-bench binary).
#
#   scripts/bench.sh            measure and rewrite the results in BENCHMARKS.md
#   scripts/bench.sh --quick    a smoke run: fewer samples, BENCHMARKS.md untouched
#
# mitmdump comes from PyPI into the git-ignored venv .cache/bench-venv on the
# first run; without it the bench still runs and the table says why.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.cache/bench-venv
work=.cache/bench
mkdir -p "$work"

# mitmproxy installs (first run only) while cargo builds.
pip_job=
if [[ ! -x "$venv/bin/mitmdump" ]]; then
    echo "bench: installing mitmproxy into $venv" >&2
    { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet mitmproxy; } >"$work/pip.log" 2>&1 &
    pip_job=$!
fi

# One optimised build (Cargo.toml's bench profile: release without line tables):
# the bench and the dispatch-vcr binary it measures, side by side in target/release
# (the same code users build; the bench feature only adds the hudsucker peer).
cargo build --profile bench --features bench --bin dispatch-vcr --bin dispatch-vcr-bench

if [[ -n "$pip_job" ]] && ! wait "$pip_job"; then
    echo "bench: could not install mitmproxy (see $work/pip.log); measuring without it" >&2
fi
if [[ -x "$venv/bin/mitmdump" ]]; then
    mitm=(--mitmdump "$venv/bin/mitmdump")
else
    mitm=(--mitmdump-missing "pip could not install mitmproxy here (see $work/pip.log)")
fi

quick=false
for arg in "$@"; do [[ "$arg" == --quick ]] && quick=true; done
started=$SECONDS
cargo run -q --profile bench --features bench --bin dispatch-vcr-bench -- "${mitm[@]}" --output "$work/results.md" "$@"
echo "bench: measured in $((SECONDS - started)) s" >&2

if ! $quick; then
    # Replace what lies between the markers in BENCHMARKS.md with the new results.
    awk -v results="$work/results.md" '
        /<!-- results:begin -->/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
        /<!-- results:end -->/ { skip = 0 }
        !skip { print }
    ' BENCHMARKS.md >"$work/BENCHMARKS.md"
    mv "$work/BENCHMARKS.md" BENCHMARKS.md
    echo "bench: BENCHMARKS.md updated" >&2
fi
