# shellcheck shell=bash
# scripts/lib/container-engine.sh — sourced by scripts/image and tests/image/run.sh: pick
# the container engine the machine has, installing one where there is none.
#
#   choose_engine          sets $engine (docker or podman); prints a note on stderr
#   engine_fit_to IMAGE    podman only: make sure a container of IMAGE can start here,
#                          switching to the settings some sandboxes need (below)
#
# HOOKRELAY_CONTAINER_ENGINE=docker|podman forces a choice (when a machine has both).
#
# The order: docker when its daemon answers (`docker info`), else podman when it works,
# else Debian's podman (and runc) installed with apt-get, as root or through sudo, the
# way scripts/pg installs PostgreSQL and scripts/browser-test installs Chromium. Podman
# needs no daemon, which is why it is the one installed.

# (messages are prefixed with $engine_who: the name of the script that sources this file)
engine_note() { printf '%s: %s\n' "${engine_who:-$0}" "$*" >&2; }
engine_die() { printf '%s: error: %s\n' "${engine_who:-$0}" "$*" >&2; exit 1; }

install_podman() {
    local -a sudo=() pkgs=(podman runc)
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null ||
            engine_die "neither docker nor podman works and sudo is unavailable: install Debian's podman and runc packages (or start a docker daemon)"
        sudo=(sudo)
        # rootless podman: subordinate ids, user-mode networking, overlay in user space
        pkgs+=(uidmap slirp4netns fuse-overlayfs)
    fi
    command -v apt-get >/dev/null ||
        engine_die "neither docker nor podman works and apt-get is unavailable: install podman (or start a docker daemon)"
    engine_note "neither docker nor podman works here; installing Debian's ${pkgs[*]}…"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null ||
        { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; } ||
        engine_die "apt-get install ${pkgs[*]} failed"
}

choose_engine() {
    case ${HOOKRELAY_CONTAINER_ENGINE:-} in
        docker|podman) engine=$HOOKRELAY_CONTAINER_ENGINE ;;
        "")
            if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
                engine=docker
            else
                if ! { command -v podman >/dev/null && podman info >/dev/null 2>&1; }; then
                    install_podman
                fi
                engine=podman
            fi
            ;;
        *) engine_die "HOOKRELAY_CONTAINER_ENGINE must be docker or podman, not '$HOOKRELAY_CONTAINER_ENGINE'" ;;
    esac
    "$engine" info >/dev/null 2>&1 || engine_die "'$engine info' fails: is $engine installed and usable by $(id -un)?"
    engine_note "container engine: $engine"
}

# Some sandboxes (a container without the right to raise resource limits) refuse every
# podman container: podman as root asks for RLIMIT_NOFILE and RLIMIT_NPROC of 1048576,
# and runc answers "error setting rlimit type 7: operation not permitted". Two settings
# fix it: no default ulimits (the container inherits podman's own), and the runc runtime.
# They go into a containers.conf of our own, named by CONTAINERS_CONF for this process
# and its children only: no system or user file is changed. Tried only when a container
# fails to start with the machine's settings, and never when CONTAINERS_CONF is already
# set (that is the user's choice).
engine_fit_to() {
    local image=$1 out
    [[ $engine == podman ]] || return 0
    out=$(podman run --rm --network none --entrypoint /usr/local/bin/hookrelay "$image" --version 2>&1) && return 0
    if [[ -z ${CONTAINERS_CONF:-} && $out == *rlimit* ]]; then
        engine_conf_dir=$(mktemp -d)
        {
            printf '[containers]\ndefault_ulimits = []\n'
            command -v runc >/dev/null && printf '[engine]\nruntime = "runc"\n'
        } >"$engine_conf_dir/containers.conf"
        export CONTAINERS_CONF=$engine_conf_dir/containers.conf
        engine_note "podman cannot set resource limits here; using $CONTAINERS_CONF (default_ulimits = [], runtime runc)"
        out=$(podman run --rm --network none --entrypoint /usr/local/bin/hookrelay "$image" --version 2>&1) && return 0
    fi
    engine_die "podman cannot start a container of $image here: $out"
}
