# Two commands for a new user: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint lock lock-check bench bench-pages bench-workshop bench-team bench-analytics clean translations \
	extract translations-update translations-import translations-check

# Installs are repeatable: every dependency comes from the hash-pinned lock files (see tools/lockfile.py).
# After changing dependencies in pyproject.toml, `make lock` re-resolves both lock files in one command.
UV_VERSION ?= 0.13.9
LOCK_FLAGS := --universal --generate-hashes --python-version 3.11 --quiet --custom-compile-command 'make lock'

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Compiled catalogs (.mo) are built here, never committed: each is remade when its .po changes.
MO := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po | $(STAMP)
	$(BIN)/python -m app.i18n_tools compile

translations: $(MO)

# For translators (docs/translating.md): template from the sources, merge into each language, import a
# translator's JSON (make translations-import LANG=es JSON=es.json), and the completeness check.
extract: $(STAMP)
	$(BIN)/python -m app.i18n_tools extract

translations-update: extract
	$(BIN)/python -m app.i18n_tools update

translations-import: $(STAMP)
	$(BIN)/python -m app.i18n_tools import $(LANG) $(JSON)

translations-check: $(STAMP)
	$(BIN)/python -m app.i18n_tools check

run: export APP_ENV ?= development
run: $(STAMP) translations
	FLASK_APP=wsgi.py $(BIN)/flask db-upgrade
	FLASK_APP=wsgi.py $(BIN)/flask demo load
	FLASK_APP=wsgi.py $(BIN)/flask run --host 127.0.0.1 --port 5000

test: $(STAMP) translations
	$(BIN)/python tools/lockfile.py check
	$(BIN)/ruff check .
	$(BIN)/mypy app
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy app

# Re-resolve both lock files from pyproject.toml (newest versions its ranges allow), with hashes.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) --extra dev -o requirements-dev.lock
	$(BIN)/python tools/lockfile.py check

lock-check: | $(BIN)/python
	$(BIN)/python tools/lockfile.py check

bench: $(STAMP)
	$(BIN)/python bench/pdf.py

# Issue 16's table: hot pages vs a bare Flask app, both under the production gunicorn config, wrk, interleaved,
# SQLite and PostgreSQL, with server CPU per request and the load average (about 12 minutes; needs wrk).
# Then the same pages' CPU per request in one process (test client), which a busy machine disturbs less.
bench-pages: $(STAMP)
	$(BIN)/python bench/pages_load.py
	$(BIN)/python bench/pages.py

# 200 workshop participants against gunicorn on SQLite and PostgreSQL, with a bare Flask page as yardstick.
bench-workshop: $(STAMP)
	$(BIN)/python bench/workshop.py

# 12 members + 2 supervisors in one draft for 60 s alongside a 100-participant workshop (SQLite and PostgreSQL).
bench-team: $(STAMP)
	$(BIN)/python bench/team.py

# Supervisors' analytics on an agency of 10 and 100 units x 10 submitted assessments (SQLite; add --pg-url).
bench-analytics: $(STAMP)
	$(BIN)/python bench/analytics.py

clean:
	rm -rf $(VENV) instance/*.sqlite3 .pytest_cache .mypy_cache
