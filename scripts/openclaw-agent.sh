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

# Run "$@" in the background and wait for it, passing SIGTERM/SIGINT on: `run` stops its command
# with a signal, and `timeout` puts node in a process group of its own, out of reach of a group kill.
supervise() {
  "$@" &
  local child=$! status
  trap 'kill -TERM '"$child"' 2>/dev/null' TERM INT
  wait "$child"
  status=$?
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
  done
  trap - TERM INT
  return "$status"
}

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
# 2026.5.28 and 2026.5.29 need both: their config schema dropped agents.defaults.agentRuntime and
# agents.list[].agentRuntime (2026.5.27 still has them), so every command but doctor refuses the
# scenario's config ("OpenClaw config is invalid … Legacy config keys detected"); `doctor --fix`
# moves the runtime to model-scoped policy, then the registry refresh as before.
if at_least 2026.5.30 "$DISPATCH_VCR_RUN_VERSION"; then
  supervise timeout 300 node "$openclaw" doctor --fix --non-interactive --yes >"$logs/setup.out" 2>&1
elif at_least 2026.5.28 "$DISPATCH_VCR_RUN_VERSION"; then
  supervise timeout 300 node "$openclaw" doctor --fix --non-interactive --yes >"$logs/setup.out" 2>&1
  echo "doctor exit status $?" >>"$logs/setup.out"
  # That doctor also repairs openai-codex/<m> refs to openai/<m> (with a model-scoped Codex
  # runtime) and then refuses the old ref as a --model override ("not allowed for agent"),
  # while the profile ids keep their openai-codex: names until 2026.5.30.
  case ${DISPATCH_VCR_RUN_MODEL:-} in openai-codex/*) DISPATCH_VCR_RUN_MODEL=openai/${DISPATCH_VCR_RUN_MODEL#openai-codex/} ;; esac
  supervise timeout 300 node "$openclaw" plugins registry --refresh >>"$logs/setup.out" 2>&1
else
  supervise timeout 300 node "$openclaw" plugins registry --refresh >"$logs/setup.out" 2>&1
fi
echo "setup exit status $?" >>"$logs/setup.out"

model=()
[ -n "${DISPATCH_VCR_RUN_MODEL:-}" ] && model=(--model "$DISPATCH_VCR_RUN_MODEL")
supervise env OPENCLAW_LOG_LEVEL=debug timeout 300 node "$openclaw" agent --local \
  --agent "$DISPATCH_VCR_RUN_AGENT" -m hi "${model[@]}" --json >"$logs/agent.json" 2>"$logs/agent.err"
status=$?
cp "$DISPATCH_VCR_RUN_LOG" "$logs/openclaw.log" 2>/dev/null
exit "$status"
