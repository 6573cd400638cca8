VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export SAM_CLI_TELEMETRY := 0

.PHONY: install test lint unit integration build deploy clean

$(STAMP): requirements-dev.txt layers/core/requirements.txt constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

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

build: $(STAMP)
	$(VENV)/bin/sam build

deploy: build
	$(VENV)/bin/sam deploy --guided

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .ruff_cache
