# Hearth: two commands on a fresh machine with Python 3.11: `make demo`, `make test`.
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
HEARTH := $(VENV)/bin/hearth
DATA ?= data
DEMO_HOUSEHOLDS ?= 2000

.PHONY: demo test env bench bench-quick fuzz fuzz-atheris dev clean

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) sync --frozen --quiet
	@touch $@

env: $(VENV)/.synced

## make demo: sample extracts into data/landing (if empty), one full run, data/warehouse.duckdb
demo: env
	@if [ -z "$$(ls -A $(DATA)/landing 2>/dev/null)" ]; then \
		$(HEARTH) synth --out $(DATA)/landing --households $(DEMO_HOUSEHOLDS); fi
	HEARTH_DEMO=1 $(HEARTH) run --landing $(DATA)/landing --warehouse $(DATA)/warehouse.duckdb

## make test: the whole test suite (under 10 minutes on 2 cores)
test: env
	$(VENV)/bin/pytest -n 2 --dist loadfile

## make bench: county-scale benchmark (25k, 50k, 100k households); writes bench/results.json
bench: env
	$(VENV)/bin/python -m bench
	$(VENV)/bin/python -m bench.readme

bench-quick: env
	$(VENV)/bin/python -m bench --sizes 25000

## make fuzz: the fuzz suite (tests/fuzz, bounded inside make test) with FUZZ_EXAMPLES per test, then
## the atheris targets (fuzz/) for ATHERIS_RUNS inputs each (at most ATHERIS_SECONDS); see docs/fuzzing.md
FUZZ_EXAMPLES ?= 5000
ATHERIS_RUNS ?= 20000
ATHERIS_SECONDS ?= 300
fuzz: env
	HEARTH_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest tests/fuzz -n 2 --hypothesis-show-statistics
	$(MAKE) fuzz-atheris

## make fuzz-atheris: only the atheris targets (prints the inputs tried per target; a crash is kept in fuzz/crashes/)
fuzz-atheris: env
	$(VENV)/bin/python -m fuzz --runs $(ATHERIS_RUNS) --seconds $(ATHERIS_SECONDS)

## make dev: the Dagster UI with sensors and schedule running
DAGSTER_HOME ?= $(CURDIR)/$(DATA)/dagster_home
dev: env
	@mkdir -p $(DAGSTER_HOME) && [ -f $(DAGSTER_HOME)/dagster.yaml ] || cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) HEARTH_DEMO=$${HEARTH_DEMO:-1} $(VENV)/bin/dagster dev -w workspace.yaml

clean:
	rm -rf $(DATA) .pytest_cache .hypothesis
