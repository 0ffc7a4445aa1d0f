# minutes — make run (try it), make test (check it). Every target honours DATABASE_URL and REDIS_URL.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
export FLASK_APP := wsgi

.PHONY: setup run serve test test-sqlite test-postgresql bench demo assets db clean

$(VENV)/.deps: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

static/vendor/.stamp: package.json
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.js static/vendor/sse.js
	@touch $@

assets: static/vendor/.stamp

db: $(VENV)/.deps
	$(FLASK) db upgrade

## setup: virtualenv, Python deps, front-end assets, database migrated (idempotent)
setup: $(VENV)/.deps assets db

## run: setup, demo data on an empty database, development server on http://127.0.0.1:5000
run: setup
	$(FLASK) minutes demo --if-empty
	@echo "打开 http://127.0.0.1:5000 （演示账号见上，密码 minutes2026）"
	$(FLASK) run --host 127.0.0.1 --port 5000

## serve: production server (gunicorn) on $(HOST):$(PORT)
serve: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

## demo: load the demo data (refuses a database with real accounts)
demo: setup
	$(FLASK) minutes demo

## test: the whole suite on SQLite, then again on PostgreSQL (skips with a reason when none answers, except under CI=true)
test: $(VENV)/.deps assets
	$(PY) -m pytest -q
	MINUTES_TEST_DB=postgresql $(PY) -m pytest -q -m "not browser"

## bench: the benchmarks in bench/ (not part of make test); results go to docs/BENCHMARKS.md
bench: $(VENV)/.deps assets
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor
