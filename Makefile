# Chatwerkstatt – `make run` starts the workspace on the sample data, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
export PYTHONPATH := $(CURDIR)
PORT ?= 8501
# The public chat (apps/public_chat.py) with the demo host page runs beside the workspace.
PUBLIC_PORT ?= $(shell echo $$(($(PORT) + 1)))
# The Gradio demos (plain language, voice input, minutes) too; each also starts alone:
# `make demo-einfache-sprache`, `make demo-spracheingabe`, `make demo-protokoll`.
PLAIN_DEMO_PORT ?= $(shell echo $$(($(PORT) + 2)))
VOICE_DEMO_PORT ?= $(shell echo $$(($(PORT) + 3)))
MINUTES_DEMO_PORT ?= $(shell echo $$(($(PORT) + 4)))
# The browser tests (tests/browser/) and `bench pages` drive the system Chromium through the
# Python package playwright; `playwright install` (a downloaded browser) is never used.
CHROMIUM := /usr/bin/chromium
# axe-core (npm) checks accessibility in those tests; installed from the lock file by `make axe`.
AXE_JS := tests/browser/node_modules/axe-core/axe.min.js
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup run sample browser axe test lint bench clean-data demo-einfache-sprache \
	demo-spracheingabe demo-protokoll

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

sample: setup
	$(PY) -m pipelines sample
	$(PY) -m pipelines demo-logs --days 60 --if-empty
	$(PY) -m evaluation testset import data/sample/musterstadt_testset.jsonl --name Musterstadt \
		--bot musterstadt-buergerservice --if-missing

run: sample
	@echo "Öffentlicher Chat: http://127.0.0.1:$(PUBLIC_PORT)/demo/musterstadt (Demo-Website)"
	@echo "Demos: Einfache Sprache http://127.0.0.1:$(PLAIN_DEMO_PORT)/ · Spracheingabe http://127.0.0.1:$(VOICE_DEMO_PORT)/ · Protokoll http://127.0.0.1:$(MINUTES_DEMO_PORT)/"
	CHATWERKSTATT_PUBLIC_PORT=$(PUBLIC_PORT) \
	CHATWERKSTATT_PUBLIC_BASE_URL=http://127.0.0.1:$(PUBLIC_PORT) \
	CHATWERKSTATT_PLAIN_DEMO_PORT=$(PLAIN_DEMO_PORT) \
	CHATWERKSTATT_PLAIN_DEMO_URL=http://127.0.0.1:$(PLAIN_DEMO_PORT) \
	CHATWERKSTATT_VOICE_DEMO_PORT=$(VOICE_DEMO_PORT) \
	CHATWERKSTATT_VOICE_DEMO_URL=http://127.0.0.1:$(VOICE_DEMO_PORT) \
	CHATWERKSTATT_MINUTES_DEMO_PORT=$(MINUTES_DEMO_PORT) \
	CHATWERKSTATT_MINUTES_DEMO_URL=http://127.0.0.1:$(MINUTES_DEMO_PORT) \
	$(PY) -m apps.serve --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

demo-einfache-sprache: setup
	$(PY) -m apps.plain_language_demo --port $(PLAIN_DEMO_PORT)

demo-spracheingabe: sample
	$(PY) -m apps.voice_demo --port $(VOICE_DEMO_PORT)

demo-protokoll: setup
	$(PY) -m apps.minutes_demo --port $(MINUTES_DEMO_PORT)

browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null; then \
		echo "$(CHROMIUM) fehlt – installiere chromium und fonts-noto-color-emoji mit apt-get"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium fonts-noto-color-emoji; \
	else \
		echo "Hinweis: $(CHROMIUM) fehlt und apt-get gibt es nicht – die Browsertests werden übersprungen."; \
	fi

# npm keeps the packed file dates, so the installed file is touched to be newer than the lock.
$(AXE_JS): tests/browser/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tests/browser --no-audit --no-fund --silent && touch $@; \
	else \
		echo "Hinweis: npm fehlt – axe-core wird nicht installiert, die Barrierefreiheitsprüfungen der Browsertests werden übersprungen."; \
	fi

axe: $(AXE_JS)

test: setup browser axe
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
	$(PY) -m evaluation bench public-chat --users 50 --seconds 60

clean-data:
	rm -rf data/runtime
