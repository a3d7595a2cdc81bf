# duban — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install run demo test test-fast bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Set up, initialise the embedded SQLite database with demo accounts, deploy processes/, walk a demo case.
run: install
	$(PY) -m engine.cli init --demo
	$(PY) -m engine.cli deploy processes/
	$(PY) -m engine.cli demo

test: install
	$(VENV)/bin/pytest -q

# Benchmarks print figures; they are run by hand, not in the suite (see README).
bench: install
	$(PY) bench/step_cost.py

clean:
	rm -rf $(VENV) instance .pytest_cache
