VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov's own dependencies clash with the project's pins, so it lives in a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
export SAM_CLI_TELEMETRY := 0

.PHONY: install run test lint browser screenshot unit integration e2e local-stack bench build deploy clean

$(STAMP): requirements-dev.txt layers/core/requirements.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt -c constraints-checkov.txt
	touch $(CHECKOV_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m embedded

lint: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

test: lint browser
	$(PY) -m pytest

# The watch page's browser test drives the distribution's Chromium (Playwright downloads none): installed here
# where apt-get can (as root); without it, that test is skipped and says why.
CHROMIUM := /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "could not install chromium: the browser test will be skipped" >&2

# Retakes the README's picture of the watch page, from its browser test.
screenshot: $(STAMP) browser
	WATCH_PAGE_SCREENSHOT=docs/watch-page.png $(PY) -m pytest -q tests/e2e/test_watch_page_in_a_browser.py -k completed

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	$(PY) -m pytest tests/integration

e2e: $(STAMP) browser
	$(PY) -m pytest tests/e2e

local-stack: $(STAMP)
	$(PY) -m pytest embedded/tests

bench: $(STAMP)
	$(PY) -m bench.throughput --latency 1.0
	$(PY) -m bench.throughput --latency 0.05
	$(PY) -m bench.latency
	$(PY) -m bench.requests
	$(PY) -m bench.scale
	$(PY) -m bench.flow

# sam build needs the Lambda runtime's Python (3.12): on PATH, or any pyenv has, whatever python3 is here.
PYTHON312 := $(shell for candidate in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null); do \
	$$candidate -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && command -v $$candidate && break; done)

build: $(STAMP)
	@test -n "$(PYTHON312)" || { echo "make build needs Python 3.12, the Lambda runtime's version, and found none on PATH or in pyenv: install it (pyenv install 3.12, or your distribution's python3.12) and run make build again" >&2; exit 1; }
	PATH="$(dir $(PYTHON312)):$$PATH" $(VENV)/bin/sam build

deploy: build
	$(VENV)/bin/sam deploy --guided

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .pytest_cache .ruff_cache
