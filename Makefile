# The two set-up commands of the README. Each one creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv

.PHONY: test install-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

install-test: $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[test]'

# Install and run the whole test suite (what CI runs).
test: install-test
	$(VENV)/bin/python -m pytest
