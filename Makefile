# Chatwerkstatt – `make run` starts the workspace on the sample data, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
export PYTHONPATH := $(CURDIR)
PORT ?= 8501

.PHONY: setup run sample test lint bench clean-data

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

sample: setup
	$(PY) -m pipelines sample

run: sample
	$(PY) -m streamlit run apps/workspace.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

test: setup
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

clean-data:
	rm -rf data/runtime
