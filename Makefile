# Each target works on a fresh machine by itself: it creates .venv, installs torch (CPU wheel) first,
# then the package with its dev extra, then runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/intraday-rl data generate --sessions 1000 --seed 7 --out artifacts/market.parquet
	$(BIN)/intraday-rl data validate artifacts/market.parquet
	$(BIN)/intraday-rl demo --config config/dqn_risk_aware.yaml

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy src

test: $(STAMP) lint typecheck
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/intraday-rl bench env

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
