# Chatwerkstatt – `make run` starts the workspace on the sample data, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
export PYTHONPATH := $(CURDIR)
PORT ?= 8501
# The browser tests (tests/browser/) and `bench pages` drive the system Chromium through the
# Python package playwright; `playwright install` (a downloaded browser) is never used.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup run sample browser test lint bench clean-data

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

sample: setup
	$(PY) -m pipelines sample
	$(PY) -m pipelines demo-logs --days 60 --if-empty

run: sample
	$(PY) -m apps.serve --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "$(CHROMIUM) fehlt – installiere chromium und fonts-noto-color-emoji mit apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium fonts-noto-color-emoji; \
	else \
		echo "Hinweis: $(CHROMIUM) fehlt und apt-get gibt es nicht – die Browsertests werden übersprungen."; \
	fi

test: setup browser
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: setup
	$(PY) -m evaluation bench retrieval --squad ../shared/data/xquad-de/xquad.de.json
	$(PY) -m evaluation bench latency
	$(PY) -m evaluation bench ingest
	$(PY) -m evaluation bench pages

clean-data:
	rm -rf data/runtime
