#!/usr/bin/env bash
# tests/image/run.sh — the container image, built and run against a real PostgreSQL.
#
#   tests/image/run.sh
#
# Builds the image with scripts/image (HOOKRELAY_BIN: package that binary instead of
# building one), creates a fresh database on DATABASE_URL's server (else on this
# checkout's private cluster, scripts/pg), and starts the image in production mode with
# secrets made on the spot, on the host's network (so it reaches that server on
# 127.0.0.1) and a free port. Then it checks: /ready answers, and how long that took
# (cold start, migrations included); the declared health check (`hookrelay health-check`)
# passes, and fails where no server runs; the README's curl session (register, log in, a
# webhook, a test event, an API key, a published event, the attempt log); the process runs
# as the image's non-root user; the image holds no shell and no package manager. The
# container and the database are removed at the end, pass or fail; the image stays.
# Any failure exits non-zero with the reason on stderr.
set -euo pipefail

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

fail() { printf 'tests/image: FAIL: %s\n' "$*" >&2; exit 1; }
note() { printf 'tests/image: %s\n' "$*" >&2; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null || fail "$tool is needed (Debian: apt-get install curl postgresql-client python3)"
done

engine_who=tests/image
# shellcheck source=scripts/lib/container-engine.sh
source scripts/lib/container-engine.sh
choose_engine

container=hookrelay-image-test-$$
db=hookrelay_image_$$
admin_url=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local rc=$?
    if [[ $rc -ne 0 ]] && "$engine" inspect --format '{{.Id}}' "$container" >/dev/null 2>&1; then
        note "the container's last log lines:"
        "$engine" logs --tail 30 "$container" >&2 2>&1 || true
    fi
    "$engine" rm -f "$container" >/dev/null 2>&1 || true
    [[ -z $admin_url ]] || psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 ||
        note "warning: could not drop the database $db"
    [[ -z ${engine_conf_dir:-} ]] || rm -rf -- "$engine_conf_dir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the image ---------------------------------------------------------------------------
started=$(date +%s%N)
image=$(scripts/image) || fail "scripts/image failed"
note "scripts/image took $(( ($(date +%s%N) - started) / 1000000 )) ms"
engine_fit_to "$image"
size=$("$engine" image inspect --format '{{.Size}}' "$image")
note "image $image: $(( size / 1024 / 1024 )) MiB"
(( size <= 40 * 1024 * 1024 )) || fail "the image is $(( size / 1024 / 1024 )) MiB, more than 40 MiB"

# --- a fresh database --------------------------------------------------------------------
pg_env=$(scripts/pg env) || fail "scripts/pg env failed"
eval "$pg_env"
with_db() { python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$1"; }
psql -q "$(with_db postgres)" -c "CREATE DATABASE $db" || fail "cannot create the database $db on $DATABASE_URL's server"
admin_url=$(with_db postgres)
db_url=$(with_db "$db")

# --- start it, production mode -----------------------------------------------------------
secret() { python3 -c 'import base64, secrets, sys; print(base64.b64encode(secrets.token_bytes(int(sys.argv[1]))).decode())' "$1"; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
# Passed as `-e NAME` (the value from this environment), so no secret is on a command line.
export DATABASE_URL=$db_url HOOKRELAY_JWT_SECRET HOOKRELAY_ENCRYPTION_KEY
HOOKRELAY_JWT_SECRET=$(secret 48)
HOOKRELAY_ENCRYPTION_KEY=$(secret 32)
started=$(date +%s%N)
# (podman without systemd says on stderr that it cannot schedule the health check timer:
# shown only when the run fails; the check itself is run below)
run_err=$("$engine" run -d --name "$container" --network host \
    -e DATABASE_URL -e HOOKRELAY_JWT_SECRET -e HOOKRELAY_ENCRYPTION_KEY \
    -e HOOKRELAY_BIND="127.0.0.1:$port" -e HOOKRELAY_PUBLIC_URL="$base" \
    -e HOOKRELAY_ATTEMPT_TIMEOUT=5s -e HOOKRELAY_LEASE=10s \
    "$image" 2>&1 >/dev/null) || fail "$engine run failed: $run_err"
ready=false
for _ in $(seq 1 1500); do
    if curl -fs -o /dev/null "$base/ready"; then ready=true; break; fi
    [[ $("$engine" inspect --format '{{.State.Running}}' "$container") == true ]] || fail "the container exited before /ready answered"
    sleep 0.02
done
$ready || fail "/ready did not answer 200 within 30 s"
cold_ms=$(( ($(date +%s%N) - started) / 1000000 ))
note "cold start to /ready: $cold_ms ms ($engine run included, migrations of a fresh database included)"
(( cold_ms <= 2000 )) || fail "cold start to /ready took $cold_ms ms, more than 2 s"
curl -fs -o /dev/null "$base/health" || fail "/health does not answer 200"

# --- the declared health check -----------------------------------------------------------
[[ $("$engine" inspect --format '{{json .Config.Healthcheck}}' "$container") == *health-check* ]] ||
    fail "the image declares no HEALTHCHECK running 'hookrelay health-check'"
"$engine" exec "$container" /usr/local/bin/hookrelay health-check ||
    fail "'hookrelay health-check' fails in the running container"
if [[ $engine == podman ]]; then
    podman healthcheck run "$container" >/dev/null || fail "podman healthcheck run: the container is not healthy"
fi
if "$engine" run --rm --network none "$image" health-check >/dev/null 2>&1; then
    fail "'hookrelay health-check' succeeds where no server runs"
fi
note "the health check passes against the server, and fails where none runs"
[[ $("$engine" inspect --format '{{json .Config.Env}}' "$container") == *HOOKRELAY_MODE=production* ]] ||
    fail "the container does not run in production mode"

# --- the README's curl session -----------------------------------------------------------
# call EXPECTED_STATUS METHOD PATH [JSON] — prints the body; fails on another status
call() {
    local want=$1 method=$2 path=$3 body=${4:-} out status
    local -a args=(-s -X "$method" -w '\n%{http_code}' "$base$path")
    [[ -z ${TOKEN:-} ]] || args+=(-H "Authorization: Bearer $TOKEN")
    [[ -z $body ]] || args+=(-H 'Content-Type: application/json' -d "$body")
    out=$(curl "${args[@]}") || fail "$method $path: curl failed"
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $status == "$want" ]] || fail "$method $path answered $status, not $want: $out"
    printf '%s\n' "$out"
}
field() { python3 -c 'import sys, json; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

TOKEN=""
call 201 POST /api/v1/auth/register \
    '{"email":"dev@example.com","password":"correct horse battery","organization":"Acme"}' >/dev/null
TOKEN=$(call 200 POST /api/v1/auth/login '{"email":"dev@example.com","password":"correct horse battery"}' | field accessToken)
# production mode: an http:// target is refused, an https:// one on a public name is taken
call 422 POST /api/v1/webhooks '{"name":"Plain","url":"http://example.com/hook","events":["message.new"]}' >/dev/null
WEBHOOK=$(call 201 POST /api/v1/webhooks \
    '{"name":"My First Webhook","url":"https://example.com/hook","events":["message.new","conversation.*"]}' | field id)
call 202 POST "/api/v1/webhooks/$WEBHOOK/test" >/dev/null
# a server publishes with an API key
KEY=$(call 201 POST /api/v1/api-keys '{"name":"backend"}' | field key)
[[ $KEY == hrk_* ]] || fail "the API key does not start with hrk_: $KEY"
TOKEN=$KEY call 202 POST /api/v1/events '{"event":"message.new","data":{"messageId":"msg_123","content":"Hello!"}}' >/dev/null
# The dispatcher in the container tries both (example.com answers, or, without a network,
# does not: either way an attempt is logged).
logged=0
for _ in $(seq 1 150); do
    logged=$(call 200 GET "/api/v1/webhooks/$WEBHOOK/logs" | python3 -c 'import sys, json; print(len(json.load(sys.stdin)["data"]))')
    (( logged >= 2 )) && break
    sleep 0.2
done
(( logged >= 2 )) || fail "the attempt log holds $logged attempts after 30 s, not the 2 (test event, published event)"
call 200 GET "/api/v1/webhooks/$WEBHOOK/stats" >/dev/null
note "curl session passed (register, login, webhook, test event, API key, publish, $logged attempts logged, stats)"

# --- non-root ----------------------------------------------------------------------------
user=$("$engine" inspect --format '{{.Config.User}}' "$container")
[[ ${user%%:*} == 10001 ]] || fail "the container's user is '$user', not 10001"
pid=$("$engine" inspect --format '{{.State.Pid}}' "$container")
if [[ $pid =~ ^[1-9][0-9]*$ && -r /proc/$pid/status ]]; then
    uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
    for uid in $uids; do
        # a rootful engine shows the image's uid here, a rootless one a subordinate uid: never 0
        [[ $uid != 0 ]] || fail "the container's process runs as root (Uid: $uids)"
    done
    # and inside the container's user namespace (the host's uid through its uid_map):
    # exactly the image's user, for the real, effective, saved and file-system uids
    inside=$(for uid in $uids; do
        awk -v u="$uid" '$2 <= u && u < $2 + $3 { print u - $2 + $1 }' "/proc/$pid/uid_map"
    done | sort -u)
    [[ $inside == 10001 ]] || fail "the container's process runs as uid '$inside' in its namespace, not 10001"
elif [[ $engine == docker ]]; then
    # a daemon in a VM (Docker Desktop): its processes are not in this machine's /proc
    uids=$(docker top "$container" -o uid | awk 'NR > 1 { print $1 }' | sort -u)
    [[ $uids == 10001 ]] || fail "docker top shows the container's process as uid '$uids', not 10001"
else
    fail "cannot find the container's process (pid '$pid')"
fi
note "runs as uid 10001 (pid $pid, seen from the host as uid ${uids// /,})"

# --- no shell, no package manager --------------------------------------------------------
for sh in /bin/sh /bin/bash /usr/bin/sh /bin/busybox; do
    if "$engine" run --rm --network none --entrypoint "$sh" "$image" -c true >/dev/null 2>&1; then
        fail "$sh runs in the image"
    fi
done
files=$("$engine" create --entrypoint /nonexistent "$image") || fail "$engine create failed"
listing=$("$engine" export "$files" | tar -t) || { "$engine" rm -f "$files" >/dev/null; fail "$engine export failed"; }
"$engine" rm -f "$files" >/dev/null 2>&1
forbidden=$(grep -E '(^|/)(sh|bash|dash|ash|zsh|busybox|apt|apt-get|dpkg|apk|yum|dnf|rpm|microdnf)$' <<<"$listing" || true)
[[ -z $forbidden ]] || fail "the image holds a shell or a package manager: $forbidden"
note "no shell, no package manager; the image's files: $(grep -v '/$' <<<"$listing" | tr '\n' ' ')"

note "PASS (image $(( size / 1024 / 1024 )) MiB, cold start $cold_ms ms)"
