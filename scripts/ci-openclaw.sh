#!/usr/bin/env bash
# CI: two real OpenClaw releases (one 2026.5.x, one 2026.9.x) run two shipped scenarios through
# the proxy and the provider stub, offline. Fails when a run breaks or when a live verdict differs
# from the one `check` gives on the committed cassette of that version, so a proxy change that
# breaks real Node clients (TLS, HTTP/1.1 keep-alive, SSE, WebSocket, zstd bodies) fails CI.
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
  --scenarios "api-key-profile-sends-bearer codex-oauth-goes-to-chatgpt-backend"
echo "ci-openclaw: done in $(($(date +%s) - started)) s"
