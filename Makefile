# Sverka: every set-up step the two Quick-start commands need, idempotent.
#   make demo   - install what is missing, generate a sample inbox, run verify_documents
#                 through Airflow on the embedded defaults, print the verdict table
#   make test   - the same set-up, then the whole test suite
#   make airflow - the Airflow UI (airflow standalone) on the demo's data
#   make airflow-soak - make airflow for 15 minutes, every DAG run once: any task failed? (after make demo)
#   make bench-registry / make bench-quality - benchmark figures (see docs/)
#   make bench - speed, memory, throughput, CLI vs DAG (docs/benchmarks.md; BENCH_ARGS=...)
#   make bench-extraction - field accuracy on the evaluation set (docs/extraction.md)
#   make bench-accuracy - verdicts on the own set, the independent set and real specimens (docs/accuracy.md)
#   make screenshot-review - the steward's required-action page (docs/review.md)

SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
PYTHON ?= python3
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
STAMPS := $(ROOT)/.make
DEMO := $(ROOT)/.demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# fonts-liberation: the independent test set and the MRZ font tests draw with it.
OS_PACKAGES := tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng fonts-dejavu-core fonts-liberation \
               python3-venv

export AIRFLOW_HOME := $(ROOT)/.airflow
export AIRFLOW_CONFIG := $(ROOT)/airflow.cfg
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
# timeout=30: how long a writer waits for SQLite's lock. At sqlite3's 5 s default the
# api-server answered 500 ("database is locked") to a task starting while six DAGs
# started at once on two cores, and the task failed its first attempt.
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(ROOT)/.airflow/airflow.db?timeout=30
export SVERKA_DATABASE_URL := sqlite:///$(DEMO)/sverka.sqlite
export SVERKA_OBJECT_STORE_URL := file://$(DEMO)/store
export SVERKA_INBOX_URL := file://$(DEMO)/sample/inbox
export PATH := $(BIN):$(PATH)

.PHONY: help demo test airflow airflow-soak bench bench-extraction bench-accuracy bench-registry bench-quality lint setup os-packages venv clean \
        screenshot-review

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

# ---------------------------------------------------------------- set-up

os-packages: $(STAMPS)/os
$(STAMPS)/os:
	@mkdir -p $(STAMPS)
	@if command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx rus \
	    && fc-list 2>/dev/null | grep -qi dejavu && fc-list 2>/dev/null | grep -qi liberation \
	    && $(PYTHON) -c 'import venv, ensurepip' 2>/dev/null; then \
	  echo "OS packages: already installed"; \
	else \
	  echo "OS packages: installing $(OS_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(OS_PACKAGES); \
	fi
	@touch $@

# Headless Chromium photographs the steward's required-action page (docs/review.md).
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@if command -v chromium >/dev/null; then echo "chromium: already installed"; else \
	  echo "OS packages: installing chromium"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	fi
	@touch $@

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml | $(STAMPS)/os
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

setup: venv

$(AIRFLOW_HOME)/airflow.db: $(VENV)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 \
	  || { tail -30 $(AIRFLOW_HOME)/db-migrate.log; exit 1; }

# verify_batch runs in the `ocr` pool, one slot per core (docs/operations.md); a scheduler
# never starts tasks of a pool that does not exist.
$(STAMPS)/ocr-pool: $(AIRFLOW_HOME)/airflow.db
	$(BIN)/airflow pools set ocr $$(nproc) "OCR batches: one slot per core" > /dev/null
	@touch $@

# ---------------------------------------------------------------- the two commands

demo: setup $(AIRFLOW_HOME)/airflow.db
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/python -m fixtures generate $(DEMO)/sample --seed 7
	@echo "Running the verify_documents DAG through Airflow (airflow dags test)..."
	@# `airflow dags test` (Airflow 3.3.2) cannot finish a DAG run that has a DeadlineAlert.
	SVERKA_VERIFY_RUN_DEADLINE_MINUTES=0 $(BIN)/airflow dags test verify_documents \
	  -c '{"inbox": "file://$(DEMO)/sample/inbox", "registry_csv": "$(DEMO)/sample/registry.csv", "today": "2026-11-21"}' \
	  > $(DEMO)/dag-run.log 2>&1 || { tail -40 $(DEMO)/dag-run.log; exit 1; }
	@grep -E "state=|DagRun Finished|dagrun" $(DEMO)/dag-run.log | tail -2 || true
	$(BIN)/sverka show $(DEMO)/store/verdicts
	@echo "Compared with the generator's ground truth:"
	@$(BIN)/python -m fixtures evaluate $(DEMO)/store/verdicts $(DEMO)/sample/inbox/expected.json
	@echo "Verdict JSON (masked, as the portal reads it): $(DEMO)/store/verdicts/<submission_id>/"
	@echo "Verdict database (SQLite, full values):      $(DEMO)/sverka.sqlite"
	@echo "Airflow log of this run:                      $(DEMO)/dag-run.log"
	@echo "Open the Airflow UI on the same data:         make airflow  (http://127.0.0.1:8080: this run under verify_documents, its batches named by submissions)"

test: setup $(STAMPS)/chromium
	$(BIN)/python -m pytest -n 2 -q

# ---------------------------------------------------------------- more

airflow: setup $(AIRFLOW_HOME)/airflow.db $(STAMPS)/ocr-pool
	$(BIN)/airflow standalone

airflow-soak: setup
	$(BIN)/python -m benchmarks.airflow_soak

bench-registry: setup
	$(BIN)/python -m benchmarks.registry

bench-quality: setup
	$(BIN)/python -m benchmarks.quality_eval

# Needs PostgreSQL on 127.0.0.1:5432 (the CLI and DAG verdict databases, Airflow metadata).
BENCH_ARGS ?=
bench: setup
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

bench-extraction: setup
	$(BIN)/python -m benchmarks.extraction_eval $(BENCH_ARGS)

bench-accuracy: setup
	$(BIN)/python -m benchmarks.accuracy $(BENCH_ARGS)

# The steward's required-action page, photographed against airflow standalone.
screenshot-review: setup $(STAMPS)/chromium
	REVIEW_SCREENSHOT_OUT=$(ROOT)/docs/screenshots/review-required-action.png \
	  $(BIN)/python -m pytest -q tests/dags/test_review_documents.py \
	  -k test_stewards_answer_required_actions_through_the_rest_api

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(DEMO) $(AIRFLOW_HOME) $(STAMPS) .airflow-test
