# perfctl: every set-up step lives here; the README and CI call these targets.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install services demo test check lint bench clean

$(BIN)/perfctl: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/perfctl
	@scripts/system-packages.sh

services:
	@scripts/services.sh

demo: install
	@ulimit -n 65536 2>/dev/null || true; $(BIN)/perfctl run normal --profile demo

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The unit and backend tests in 4 processes on both cores (the end-to-end ones among them
# mostly wait on their runs), then alone what measures time or CPU under load
# or waits on real servers within fixed timeouts (marked slow or serial, and every end-to-end
# test that is not parallel_safe: the marker `alone`, see tests/conftest.py); both parts
# always run.
test: install services
	@ulimit -n 65536 2>/dev/null || true; status=0; \
	$(BIN)/pytest -n 4 --dist worksteal -m "not alone" || status=$$?; \
	$(BIN)/pytest -m alone || status=$$?; \
	exit $$status

bench: install services
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) reports .mypy_cache .ruff_cache .pytest_cache
