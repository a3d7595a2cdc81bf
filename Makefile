# duban — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml package.json | sha1sum | cut -c1-12)

.PHONY: install run test bench clean translations

$(STAMP): setup.cfg pyproject.toml package.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	npm install --no-audit --no-fund --silent   # bpmn-js for the case diagrams, from the npm registry
	rm -f $(VENV)/.installed-*
	touch $@

MO := web/translations/en/LC_MESSAGES/messages.mo

$(MO): web/translations/en/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile -d web/translations -f

install: $(STAMP) $(MO)

# After changing UI text: collect the msgids, then translate the new entries in messages.po.
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k lazy_gettext -k N_ -o /tmp/duban-messages.pot .
	$(VENV)/bin/pybabel update -i /tmp/duban-messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete

# Set up, initialise the embedded SQLite database with demo accounts and cases, start the web app.
run: install
	$(PY) -m engine.cli init --demo
	$(PY) -m engine.cli deploy processes/
	$(PY) -m engine.cli demo
	$(PY) -m engine.cli serve --host 127.0.0.1 --port 5000

test: install
	$(VENV)/bin/pytest -q

# Benchmarks print figures; they are run by hand, not in the suite (see README).
bench: install
	$(PY) bench/step_cost.py

clean:
	rm -rf $(VENV) instance .pytest_cache
