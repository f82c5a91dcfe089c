# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint unit bench build clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

## Start the whole platform locally (moto, API on :3000, carrier simulator on :3900).
run: $(STAMP)
	$(PY) -m infra.local

## Lint, then every test (unit, functional on moto, end-to-end through the local platform).
test: $(STAMP) lint
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/cfn-lint template.yaml

## Pure unit tests only: the quick loop while editing domain code.
unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

## Benchmarks: print figures and ratios measured in one run.
bench: $(STAMP)
	$(PY) -m benchmarks

## `sam build` for the Lambda runtime (python3.12, arm64); BUILD_DIR to build elsewhere.
SAM := .venv-sam/bin/sam
BUILD_DIR ?= .aws-sam/build
$(SAM):
	$(PYTHON) -m venv .venv-sam
	.venv-sam/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0

build: $(SAM)
	SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/.venv-sam/bin:$$PATH" PYENV_VERSION=3.12.1:3.11.7 \
		$(SAM) build --build-dir "$(BUILD_DIR)"

clean:
	rm -rf $(VENV) .venv-sam .aws-sam .pytest_cache .ruff_cache
