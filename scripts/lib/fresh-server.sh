# scripts/lib/fresh-server.sh — sourced by scripts/schemathesis and scripts/browser-test:
# a debug build of hookrelay serving a fresh database of DATABASE_URL's server (or of the
# private cluster, scripts/pg), dropped again on exit.
#
#   start_fresh_server NAME [VAR=value …]   sets $base (http://127.0.0.1:<port>) and an EXIT trap
#
# HOOKRELAY_BIN names a binary to serve instead of building one.
#
# The settings given are added to the server's environment. The per-tenant and sign-up
# rate limits are off: test tools send many requests from one address.

start_fresh_server() {
    local name=$1
    shift
    pg_env=$(scripts/pg env) || { echo "$0: scripts/pg env failed" >&2; exit 1; }
    eval "$pg_env"
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-${HOME:?HOME is not set; set CARGO_TARGET_DIR}/.cache/hookrelay-target}
    # HOOKRELAY_BIN: an already built binary (no cargo run), e.g. while another build runs
    # (serving the dashboard from assets/dashboard: its built-in copy may be older)
    local bin=${HOOKRELAY_BIN:-} dashboard=()
    if [[ -z $bin ]]; then
        cargo build --locked --bin hookrelay
        bin=$CARGO_TARGET_DIR/debug/hookrelay
    else
        dashboard=(HOOKRELAY_DASHBOARD_DIR="$PWD/assets/dashboard")
    fi
    fresh_db="hookrelay_${name}_$$"
    fresh_admin_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/postgres")))' "$DATABASE_URL")
    local db_url port
    db_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$fresh_db")
    psql -q "$fresh_admin_url" -c "CREATE DATABASE $fresh_db"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    env DATABASE_URL="$db_url" HOOKRELAY_BIND="127.0.0.1:$port" HOOKRELAY_TENANT_API_RATE=0 HOOKRELAY_TENANT_PUBLISH_RATE=0 \
        HOOKRELAY_AUTH_RATE_LIMIT=0 RUST_LOG=${RUST_LOG:-error} "${dashboard[@]}" "$@" "$bin" serve &
    fresh_server=$!
    trap stop_fresh_server EXIT
    base=http://127.0.0.1:$port
    for _ in $(seq 1 100); do
        curl -fs "$base/ready" >/dev/null && return 0
        sleep 0.2
    done
    echo "$0: the server did not become ready at $base" >&2
    exit 1
}

# shellcheck disable=SC2317  # called by the EXIT trap
stop_fresh_server() {
    kill "$fresh_server" 2>/dev/null || true
    wait "$fresh_server" 2>/dev/null || true
    psql -q "$fresh_admin_url" -c "DROP DATABASE IF EXISTS $fresh_db" || true
}
