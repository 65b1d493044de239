#!/usr/bin/env bash
# Installs and starts what the test suite needs beyond pip. Idempotent; needs root on Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "setup_system: nothing to do yet"
