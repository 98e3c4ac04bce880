#!/usr/bin/env bash
# `scenario from-openclaw` against homes made by real OpenClaw releases (issue O's acceptance).
#
# For each release: a setup holding planted secrets that look real (a random `sk-proj-` key, an RS256-looking JWT
# with a subject and a personal email, a refresh token) is run once under the provider stub with
# `run --openclaw --home DIR`, so the release itself leaves its home behind (2026.9.6's `doctor --fix` imports the
# logins into its SQLite store; 2026.5.16-beta.4 keeps the JSON files). Then:
#   1. `scenario from-openclaw --home DIR --version V` writes the shareable scenario;
#   2. no planted value is in it or in what it printed, in clear, base64 or percent-encoded;
#   3. it plans the dispatch the original setup plans (endpoint, profile, header, scheme, kind, account);
#   4. `run --stub --openclaw` of the release on it gives the verdict the original run gave.
# Both scenarios are judged by the reference alone (no pinned expectation), so the verdicts compare.
#
# Usage: scripts/openclaw-from-home.sh [--bin PATH] [--cache DIR] [--versions "V…"]
# The releases come from the cache as `releases install` leaves them (installed on demand, online).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug/dispatch-vcr
cache=${OPENCLAW_CACHE:-.cache/openclaw}
versions="2026.5.16-beta.4 2026.9.6"
while [ $# -gt 0 ]; do
  case $1 in
    --bin) bin=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --versions) versions=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "openclaw-from-home: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || cargo build -q
work=$(mktemp -d -t from-home.XXXXXX)
trap 'rm -rf "$work"' EXIT
export DISPATCH_VCR_HOME=${DISPATCH_VCR_HOME:-$work/dvhome}

# The original setup: scenarios/openclaw/oauth-login-beats-older-api-key.json's inputs, secrets planted.
python3 - scenarios/openclaw/oauth-login-beats-older-api-key.json "$work" <<'PY'
import base64, json, secrets, sys
source, work = sys.argv[1:3]
scenario = json.load(open(source))
b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
email = f"kate.{secrets.token_hex(3)}@kate-mail.net"
claims = {"https://api.openai.com/auth": {"chatgpt_account_id": "acct-planted-o", "chatgpt_plan_type": "plus"},
          "https://api.openai.com/profile": {"email": email}, "sub": f"auth0|{secrets.token_hex(8)}",
          "exp": 4102444800}
jwt = ".".join([b64(b'{"alg":"RS256","typ":"JWT"}'), b64(json.dumps(claims).encode()), b64(secrets.token_bytes(48))])
planted = {"key": "sk-proj-" + secrets.token_urlsafe(36), "access": jwt, "refresh": "rt_" + secrets.token_urlsafe(24),
           "email": email}
profiles = scenario["inputs"]["auth_profiles"]["profiles"]
profiles["openai:default"]["key"] = planted["key"]
login = profiles.pop("openai-codex:user@example.com")
login.update(access=jwt, refresh=planted["refresh"], email=email)
profiles[f"openai-codex:{email}"] = login
scenario.update(name="from-home-original", expect={}, cassettes={})
for key in ("versions", "known_failures", "source", "$schema"):
    scenario.pop(key, None)
json.dump(scenario, open(f"{work}/original.json", "w"), indent=2)
json.dump(planted, open(f"{work}/planted.json", "w"))
PY

# What decides the dispatch, from `dispatch plan --format json`.
decisive() {
  python3 -c '
import json, sys
p = json.load(sys.stdin); c = p.get("credential") or {}
print(json.dumps([p["endpoint"], c.get("profile"), c.get("header"), c.get("scheme"), c.get("kind"),
                  (p.get("account") or {}).get("value")]))'
}
# The verdict of a `run --format json` report.
verdict() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scenarios"][0]["cells"][0]["verdict"])' "$1"; }

failed=0
fail() { echo "openclaw-from-home: $*" >&2; failed=1; }
for v in $versions; do
  started=$(date +%s)
  home=$work/home-$v
  set +e
  "$bin" run "$work/original.json" --version "$v" --stub --openclaw --cache "$cache" --home "$home" \
    --format json -o "$work/original-$v.json" >"$work/original-$v.out" 2>&1
  original_status=$?
  set -e
  [ "$original_status" -le 1 ] || { cat "$work/original-$v.out" >&2; fail "$v: the original run failed (exit $original_status)"; continue; }
  shared=$work/shared-$v.json
  "$bin" scenario from-openclaw --home "$home" --version "$v" -o "$shared" 2>"$work/from-$v.err"
  grep -q "fixture" "$shared" || fail "$v: the scenario holds no fixture"
  sed -n 's/^/  from-openclaw: /p' "$work/from-$v.err"
  # From 2026.5.30 the release's doctor imports the logins into SQLite, and that store is what must be read.
  if [ "$(printf '%s\n' 2026.5.30 "$v" | sort -V | head -1)" = 2026.5.30 ]; then store=openclaw.sqlite; else store=auth-profiles.json; fi
  grep -A1 '^read' "$work/from-$v.err" | grep -q "$store" || fail "$v: the login store read is not $store"
  python3 - "$work/planted.json" "$shared" "$work/from-$v.err" <<'PY' || fail "$v: a planted value leaked"
import base64, json, sys, urllib.parse
planted = json.load(open(sys.argv[1]))
texts = {path: open(path).read() for path in sys.argv[2:]}
for name, value in planted.items():
    for form in {value, urllib.parse.quote(value, safe=""), base64.b64encode(value.encode()).decode()[:24]}:
        for path, text in texts.items():
            if form in text:
                sys.exit(f"{name} ({form[:8]}…) is in {path}")
PY
  want=$("$bin" dispatch plan --scenario "$work/original.json" --version "$v" --format json | decisive)
  got=$("$bin" dispatch plan --scenario "$shared" --version "$v" --format json | decisive)
  # The reporter's email becomes user@example.com; nothing else of the plan may change.
  email=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["email"])' "$work/planted.json")
  [ "${want//$email/user@example.com}" = "$got" ] || fail "$v: plans differ: original $want, shared $got"
  set +e
  "$bin" run "$shared" --version "$v" --stub --openclaw --cache "$cache" --format json -o "$work/shared-$v-report.json" \
    >"$work/shared-$v.out" 2>&1
  shared_status=$?
  set -e
  a=$(verdict "$work/original-$v.json"); b=$(verdict "$work/shared-$v-report.json" 2>/dev/null || echo none)
  [ "$a" = "$b" ] && [ "$original_status" = "$shared_status" ] ||
    fail "$v: verdicts differ: original $a (exit $original_status), shared $b (exit $shared_status)"
  echo "$v: plan $got; verdict $a on the original home and on its scenario ($(($(date +%s) - started)) s)"
done
exit $failed
