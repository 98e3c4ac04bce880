#!/usr/bin/env bash
# One OpenClaw turn, run by `dispatch-vcr run` as its command (see scripts/openclaw-matrix.sh).
#
# `run` has already written the scenario's openclaw.json and auth stores into $HOME and set the
# proxy/trust environment and DISPATCH_VCR_RUN_{HOME,LOG,AGENT,VERSION,MODEL}. This does the
# per-version steps of docs/openclaw.md, then `openclaw agent --local`, and keeps OpenClaw's
# output and log in LOG_DIR.
#
# usage: openclaw-agent.sh NODE_BIN_DIR OPENCLAW_MJS LOG_DIR [CODEX_PLUGIN_HOME]
#   CODEX_PLUGIN_HOME: a HOME where `openclaw plugins install @openclaw/codex` ran, at the very
#   path $HOME has now (its install records hold absolute paths); its plugin is put in place first.
set -uo pipefail

node_dir=$1 openclaw=$2 logs=$3 codex_home=${4:-}
export PATH="$node_dir:$PATH"
mkdir -p "$logs"

# Whether version $2 >= $1 in calendar-version order (a pre-release sorts before its release).
at_least() {
  [ "$(printf '%s\n%s\n' "$1" "${2/-/\~}" | sort -V | head -n1)" = "$1" ]
}

if [ -n "$codex_home" ]; then
  # Everything the install left but its openclaw.json (the scenario's config is the one under
  # test): the plugin, the state database with the install records, the key that signs them.
  # A real copy: OpenClaw refuses hard-linked plugin files ("path must not be hardlinked").
  for entry in "$codex_home"/.openclaw/*; do
    [ "$(basename "$entry")" = openclaw.json ] || cp -a "$entry" "$HOME/.openclaw/"
  done
fi

# >= 2026.5.30: migrate the old-shape config and import auth-profiles.json into the SQLite store
# (the agent no longer reads the file). Before: without a registry refresh the bundled plugin
# manifests are not found and the provider headers are not sent.
if at_least 2026.5.30 "$DISPATCH_VCR_RUN_VERSION"; then
  node "$openclaw" doctor --fix --non-interactive --yes >"$logs/setup.out" 2>&1
else
  node "$openclaw" plugins registry --refresh >"$logs/setup.out" 2>&1
fi
echo "setup exit status $?" >>"$logs/setup.out"

model=()
[ -n "${DISPATCH_VCR_RUN_MODEL:-}" ] && model=(--model "$DISPATCH_VCR_RUN_MODEL")
OPENCLAW_LOG_LEVEL=debug timeout 180 node "$openclaw" agent --local --agent "$DISPATCH_VCR_RUN_AGENT" -m hi \
  "${model[@]}" --json >"$logs/agent.json" 2>"$logs/agent.err"
status=$?
cp "$DISPATCH_VCR_RUN_LOG" "$logs/openclaw.log" 2>/dev/null
exit "$status"
