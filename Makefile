# Two commands for a newcomer: `make run` (the product with demo data) and `make test`.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run prod test lint setup setup-dev migrate seed agent-demo clean

$(VENV)/bin/activate:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: requirements.txt $(VENV)/bin/activate
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt reader_agent/requirements.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt
	@# pyscard compiles against the PC/SC headers; without them the real-reader tests skip.
	$(PIP) install -q -r reader_agent/requirements.txt || \
	  echo "pyscard not installed (apt-get install libpcsclite-dev swig): PC/SC tests will skip"
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

migrate: setup
	$(PY) manage.py migrate --noinput -v0

seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py dashboard_rebuild

# Links in e-mails and on member cards lead to where this serves (unless head office set one).
SITE_URL ?= http://$(HOST):$(PORT)

run: seed
	@echo "Serving on http://$(HOST):$(PORT)/  (customers; staff: /counter/ and /office/, admin: /admin/)"
	SITE_URL=$(SITE_URL) $(PY) manage.py runserver $(HOST):$(PORT)

# The production stack on this machine: PostgreSQL, Redis, gunicorn, Celery worker and beat,
# production settings (docs/deploy.md). Ctrl-C stops it all.
prod: setup
	$(PY) deploy/prod.py --host $(HOST) --port $(PORT)

# The reader agent against an emulated card (alice, bruno, chloe, emma): no hardware needed.
CARD ?= alice
agent-demo: setup-dev
	@test -f var/demo-reader.token || $(PY) manage.py seed_demo --quiet-logins
	@test -f var/demo-eid.key || $(PY) -m reader_agent --generate-key --key-file var/demo-eid.key
	$(PY) -m reader_agent --server http://$(HOST):$(PORT) --token-file var/demo-reader.token \
	  --key-file var/demo-eid.key --virtual-card $(CARD)

test: setup-dev
	$(PY) -m pytest

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
