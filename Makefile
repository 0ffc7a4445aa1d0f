# minutes — make run (try it), make test (check it). Every target honours DATABASE_URL and REDIS_URL.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run` listens on 127.0.0.1:5000 unless HOST or PORT is given (make run PORT=5311), like `make serve` does
RUN_PORT := $(if $(filter command line environment,$(origin PORT)),$(PORT),5000)
TEST_WORKERS ?= 2
export FLASK_APP := wsgi
PYBABEL := $(VENV)/bin/pybabel
CATALOG := minutes/translations/zh_Hans_CN/LC_MESSAGES/messages

.PHONY: setup run serve test test-sqlite test-postgresql audit bench demo assets db clean translations

$(VENV)/.deps: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# the packages in package-lock.json; the ones that ship a browser build are copied, the DingTalk JS API (CommonJS
# modules only) is bundled by esbuild (a devDependency) from tools/dingtalk-jsapi.js
static/vendor/.stamp: package.json package-lock.json tools/dingtalk-jsapi.js
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.js static/vendor/sse.js
	cp node_modules/sortablejs/Sortable.min.js static/vendor/Sortable.min.js
	node_modules/.bin/esbuild tools/dingtalk-jsapi.js --bundle --minify --format=iife --global-name=dd \
	  --target=es2017 --log-level=warning --outfile=static/vendor/dingtalk-jsapi.min.js
	@touch $@

assets: static/vendor/.stamp

# the compiled catalog is built from the committed messages.po, not kept in git
$(CATALOG).mo: $(CATALOG).po $(VENV)/.deps
	$(PYBABEL) compile -d minutes/translations -D messages

## translations: after changing UI strings: extract them (babel.cfg), update messages.po, compile it
translations: $(VENV)/.deps
	mkdir -p minutes/translations
	$(PYBABEL) extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 --add-location=file --sort-output \
	  --no-wrap --project minutes -o minutes/translations/messages.pot .
	$(PYBABEL) update -i minutes/translations/messages.pot -d minutes/translations -D messages -l zh_Hans_CN \
	  --init-missing --ignore-obsolete --no-fuzzy-matching --no-wrap
	$(PYBABEL) compile -d minutes/translations -D messages

db: $(VENV)/.deps
	$(FLASK) db upgrade

## setup: virtualenv, Python deps, front-end assets, database migrated (idempotent)
setup: $(VENV)/.deps assets $(CATALOG).mo db

## run: setup, demo data on an empty database, the server on http://$(HOST):$(RUN_PORT) (default 127.0.0.1:5000)
#   No mail server is needed: MAIL_DEV_MAILBOX=1 keeps the mail the app sends in a local mailbox at /dev/mailbox.
#   The same server as `make serve` (gunicorn, one gevent worker: live updates as in production), restarted
#   when a source file changes (--reload).
run: setup
	MAIL_DEV_MAILBOX=$${MAIL_DEV_MAILBOX:-1} $(FLASK) minutes demo --if-empty
	@echo "打开 http://$(HOST):$(RUN_PORT) （演示账号见上，密码 minutes2026；发出的邮件见 http://$(HOST):$(RUN_PORT)/dev/mailbox）"
	MAIL_DEV_MAILBOX=$${MAIL_DEV_MAILBOX:-1} BASE_URL=$${BASE_URL:-http://$(HOST):$(RUN_PORT)} \
	  HOST=$(HOST) PORT=$(RUN_PORT) GUNICORN_WORKERS=1 $(VENV)/bin/gunicorn -c gunicorn.conf.py --reload wsgi:app

## serve: production server (gunicorn) on $(HOST):$(PORT)
serve: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

## demo: load the demo data (refuses a database with real accounts)
demo: setup
	$(FLASK) minutes demo

## test: the whole suite on SQLite, then again on PostgreSQL (skips with a reason when none answers, except under CI=true)
#   Each pass runs in TEST_WORKERS processes (pytest-xdist), then the tests that start and load the production
#   server run alone (marker `serial`): on a 2-core box they must not share it with the rest.
test: $(VENV)/.deps assets $(CATALOG).mo audit
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not serial"
	$(PY) -m pytest -q -m serial
	MINUTES_TEST_DB=postgresql $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not browser and not serial"
	MINUTES_TEST_DB=postgresql $(PY) -m pytest -q -m "serial and not browser"

## audit: bandit over the code (bandit.yaml), pip-audit over the dependencies (skips with a reason when its service does not answer)
audit: $(VENV)/.deps
	$(VENV)/bin/bandit -c bandit.yaml -r minutes tools -q
	$(PY) tools/audit_deps.py

## bench: the benchmarks in bench/ (not part of make test); results go to docs/BENCHMARKS.md
bench: $(VENV)/.deps assets
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/vendor
