# The two set-up commands of the README. Both are idempotent and work on a fresh Debian machine as root.
PY ?= python3
PIP = $(PY) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore

.PHONY: demo test install-test system frameworks

install-test:
	$(PIP) -e '.[test]'

# System pieces the tests need: Docker engine + runner image, headless Chromium. Idempotent.
system:
	bash tools/setup_system.sh

# The demo's HTML leaderboard draws its plot with matplotlib (the `plot` extra).
demo:
	$(PIP) -e '.[plot]'
	mimo-eval demo

# One venv per RL framework (.venvs/<name>, exact releases) for tests/test_frameworks.py. Idempotent.
frameworks:
	PY=$(PY) bash tools/setup_frameworks.sh

test: install-test system frameworks
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)
