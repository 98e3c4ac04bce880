#!/usr/bin/env bash
# CI: two real OpenClaw releases (one 2026.5.x, one 2026.9.x) run two shipped scenarios through
# the proxy and the provider stub, offline. Fails when a run breaks or when a live verdict differs
# from the one `check` gives on the committed cassette of that version, so a proxy change that
# breaks real Node clients fails CI. The two scenarios cover Node's HTTPS through CONNECT, SSE
# (both releases), embeddings (2026.9.6) and a Responses WebSocket (2026.9.6 with an OAuth login),
# and a verdict that changes across the releases (2026.5.16-beta.4 sends the API key instead of
# the OAuth login). The Codex runtime plugin is left out (~340 MB, minutes a run); these two
# scenarios give the same verdicts with it and without it.
#
# Then `bisect` over 2026.5.27..2026.5.28 (two more installs, ~2 min a run), and `scenario from-openclaw` on the
# homes the two releases leave behind (scripts/openclaw-from-home.sh, ~75 s).
#
# Node 24 and the releases are installed from the npm registry into .cache/openclaw (keep that
# folder between CI runs to skip the installs). The full matrix: scripts/openclaw-matrix.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq npm
fi
bin=${DISPATCH_VCR_BIN:-target/debug/dispatch-vcr}
[ -x "$bin" ] || cargo build -q
work=$(mktemp -d -t ci-openclaw.XXXXXX)
trap 'rm -rf "$work"' EXIT
# A CA of its own: CI never touches the user's dispatch-vcr home.
export DISPATCH_VCR_HOME=$work/home

started=$(date +%s)
scripts/openclaw-matrix.sh --compare --bin "$bin" --record-dir "$work/cassettes" \
  --versions "2026.5.16-beta.4 2026.9.6" \
  --scenarios "api-key-profile-sends-bearer oauth-login-beats-older-api-key"

# bisect over a two-release range with a real change (2026.5.28 no longer knows the scenario's Anthropic model), the
# installs cached in the same folder: the machinery of `releases install`, `run --openclaw` and `bisect` cannot rot.
out=$work/bisect.out
"$bin" bisect scenarios/openclaw/anthropic-setup-token-as-bearer.json --good 2026.5.27 --bad 2026.5.28 \
  --cache "${OPENCLAW_CACHE:-.cache/openclaw}" --record-to "$work/bisect" | tee "$out"
grep -q '^first bad release: 2026.5.28 (last good: 2026.5.27)$' "$out"
grep -q '^2 run(s) for 0 candidate release(s)' "$out"
# `scenario from-openclaw` on homes the two releases leave behind (file stores, and SQLite after doctor --fix).
scripts/openclaw-from-home.sh --bin "$bin" --cache "${OPENCLAW_CACHE:-.cache/openclaw}"
echo "ci-openclaw: done in $(($(date +%s) - started)) s"
