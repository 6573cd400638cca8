VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0

.PHONY: install run test lint unit integration e2e local-stack bench build deploy clean

$(STAMP): requirements-dev.txt layers/core/requirements.txt constraints.txt pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m embedded

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

test: lint
	$(PY) -m pytest

unit: $(STAMP)
	$(PY) -m pytest tests/unit

integration: $(STAMP)
	$(PY) -m pytest tests/integration

e2e: $(STAMP)
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

build: $(STAMP)
	$(VENV)/bin/sam build

deploy: build
	$(VENV)/bin/sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache
