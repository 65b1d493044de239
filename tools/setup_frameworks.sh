#!/usr/bin/env bash
# One virtual environment per RL framework under .venvs/<name>, so their conflicting pins (verl wants
# transformers<5.11, OpenRLHF ==5.15.0) never touch the main test env. Idempotent: a venv whose stamp matches
# the hash of its requirement files is left alone; a stale one is updated in place. Usage: tools/setup_frameworks.sh [verl trl openrlhf verifiers]
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=tools/frameworks
PY=${PY:-python3}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(verl trl openrlhf verifiers)

setup_one() {
    local name=$1 venv=.venvs/$1 t0=$SECONDS
    local stamp
    stamp=$(cat "$REQ/constraints.txt" "$REQ/common.txt" "$REQ/$name".*txt | sha256sum | cut -c1-16)
    if [ -f "$venv/.mimo-stamp" ] && [ "$(cat "$venv/.mimo-stamp")" = "$stamp" ]; then
        echo "setup_frameworks: $name up to date ($venv)"; return
    fi
    # changed requirements install over the old venv (pip skips what is already right); a new one starts empty
    [ -x "$venv/bin/python" ] || "$PY" -m venv "$venv"
    local pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$REQ/constraints.txt")
    "${pip[@]}" -r "$REQ/common.txt" -r "$REQ/$name.txt"
    if [ -f "$REQ/$name.nodeps.txt" ]; then "${pip[@]}" --no-deps -r "$REQ/$name.nodeps.txt"; fi
    echo "$stamp" > "$venv/.mimo-stamp"
    echo "setup_frameworks: $name installed in $((SECONDS - t0)) s ($venv)"
}

for n in "${names[@]}"; do setup_one "$n"; done
