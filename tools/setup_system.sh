#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond pip. Idempotent; needs root on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
# --- Docker engine + sandbox runner image (owner: sandboxes) ---------------------------------------
# Installs docker.io and debootstrap when missing, starts dockerd in the background when no engine
# answers (no systemd in CI containers; log in /var/log/mimo-dockerd.log), then builds the runner image
# offline once (`mimo-eval sandbox build --offline` skips an up-to-date image).
docker_up() { timeout 20 docker info >/dev/null 2>&1; }
if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
        --no-install-recommends docker.io debootstrap
fi
start_dockerd() {  # $@: extra dockerd flags; stops the dockerd it started (by pid) if it never answers
    setsid nohup dockerd "$@" >>/var/log/mimo-dockerd.log 2>&1 </dev/null &
    local pid=$!
    for _ in $(seq 1 150); do docker_up && return 0; kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill "$pid" 2>/dev/null && sleep 2
    return 1
}
if ! docker_up; then
    echo "setup_system: starting dockerd (log: /var/log/mimo-dockerd.log)"
    # Fallback without iptables/bridge for hosts where those are unavailable; the sandbox needs no network.
    start_dockerd || start_dockerd --iptables=false --bridge=none \
        || { echo "setup_system: dockerd did not start; see /var/log/mimo-dockerd.log" >&2; exit 1; }
fi
# Same as `mimo-eval sandbox build --offline`, without depending on the rest of the CLI.
"${PY:-python3}" -m sandboxes.build --offline
# The code grader judges in the image with numpy, like LiveCodeBench's judge process (graders.code.judge_sandbox).
"${PY:-python3}" -m sandboxes.build --offline --numpy
# --- headless Chromium for the HTML leaderboard check (owner: harness) ---------------------------------
if ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium
fi
