# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint unit bench fuzz build clean browser

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
## Three workers on two cores: the end-to-end and browser tests spend much of their time waiting
## for their platform's processes, which a third worker fills (about 580 s instead of 640 s).
test: $(STAMP) lint browser
	$(PY) -m pytest -n 3 --dist loadfile

## Chromium (Debian's package) and a CJK font for the portal's browser tests: installed with
## apt-get where missing and we are root; otherwise stop and name the packages.
CHROMIUM_PACKAGES := chromium fonts-wqy-microhei
browser:
	@if test -x /usr/bin/chromium && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; \
	elif test "$$(id -u)" = 0 && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CHROMIUM_PACKAGES); \
	else \
		echo "The portal's browser tests need the Debian packages: $(CHROMIUM_PACKAGES)" >&2; \
		echo "Install them as root: apt-get install -y $(CHROMIUM_PACKAGES)" >&2; exit 1; \
	fi

## Infrastructure scan of template.yaml (checkov, settings in .checkov.yaml), in a virtualenv of
## its own: checkov's dependencies clash with the project's pins. Its version is pinned in
## pyproject.toml's `scan` dependency group (installing a group needs pip 25.1 or later).
SCAN_VENV := .venv-scan
SCAN_STAMP := $(SCAN_VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(SCAN_STAMP): pyproject.toml
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --group scan
	@rm -f $(SCAN_VENV)/.installed-*; touch $@

lint: $(STAMP) $(SCAN_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/cfn-lint template.yaml
	$(SCAN_VENV)/bin/checkov --config-file .checkov.yaml

## Pure unit tests only: the quick loop while editing domain code.
unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

## A longer schemathesis pass over every operation of the OpenAPI document than `make test` runs
## (as an operator, without a token and as the permission administrator); EXAMPLES per operation.
EXAMPLES ?= 100
fuzz: $(STAMP)
	$(PY) -m tests.e2e.api_fuzz --max-examples $(EXAMPLES)

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
	rm -rf $(VENV) .venv-sam $(SCAN_VENV) .aws-sam .pytest_cache .ruff_cache
