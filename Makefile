# The two commands a newcomer needs: `make demo` and `make test`. Both create .venv if missing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: venv demo test lint fix docs docs-check check bench bench-spark bench-splink smoke clean hostile

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

## the main job: generate the demo workspace and audit it (exits 0 when it ran; the raw demo
## data fails the quality gate on purpose, and the demo says why and how to make it pass)
demo: venv
	$(BIN)/crm-audit demo

## the test suite; pytest's exit code 5 (no tests collected) counts as a failure
test: venv
	@$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	exit $$rc

## style, the stage boundaries (import-linter contracts) and types (mypy), all set in pyproject.toml
lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

fix: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: venv
	$(BIN)/cog -r README.md

docs-check: venv
	$(BIN)/cog --check README.md

smoke: venv
	$(BIN)/crm-audit --help >/dev/null
	@d=$$(mktemp -d); cd $$d && $(CURDIR)/$(BIN)/crm-audit demo --size 300 >/dev/null; rc=$$?; \
	rm -rf $$d; if [ $$rc -gt 1 ]; then echo "smoke: crm-audit demo exited $$rc" >&2; exit 1; fi

check: lint docs-check test smoke

bench: venv
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q -p no:cacheprovider tests/test_normalize_props.py
	CRM_AUDIT_KILL_TRIALS=40 $(PY) -m pytest -q -s -p no:cacheprovider tests/test_faults.py -k kill_9
	$(PY) tests/benchmarks/run_all.py $(BENCH_ARGS)

## both engines on a generated 100k-contact workspace (50,000 persons): wall, CPU and memory of
## each, and the run folders compared file by file (exit 1 when one differs); needs Java
bench-spark: venv
	$(PY) tests/benchmarks/bench_spark.py $(BENCH_SPARK_ARGS)

## Splink 5 on the same 100k CRM-like records as bench_match (Splink lives in its own venv)
SPLINK_PY ?= /work/splinkvenv/bin/python
BENCH_DIR ?= /tmp/crm-audit-bench
bench-splink: venv
	mkdir -p $(BENCH_DIR)
	$(PY) tests/benchmarks/bench_match.py --n 100000 --cache $(BENCH_DIR)
	$(SPLINK_PY) tests/benchmarks/splink_crm.py $(BENCH_DIR)/c100000b2b.parquet

## the hostile-case table (issue #14): every attack by class, tried / handled / failing
hostile: venv
	$(PY) tests/hostile/table.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache crm-audit-demo
