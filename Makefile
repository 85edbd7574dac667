# Callboard: two commands on a fresh machine.
#   make run   - set up everything and serve http://127.0.0.1:8000 (web + worker + beat)
#   make test  - lint, check the import contract and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint serve migrate demo services clean-data docs bench help

help:
	@echo "make run    - install, migrate, load the demo org, serve on http://$(HOST):$(PORT)"
	@echo "make test   - ruff, import-linter and the full pytest suite"
	@echo "make services - install and start PostgreSQL and Redis (Debian, root)"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Callboard needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok requirements.txt
	$(PIP) install -q -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	@touch $@

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput -v0

demo: migrate
	$(PY) manage.py demo load

run: demo
	$(PY) manage.py ensure_admin
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(VENV)/bin/pytest $(PYTEST_ARGS)

docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -d var/site

bench: $(VENV)/.installed
	$(PY) bench/catalog.py

services:
	bash scripts/services.sh

clean-data:
	rm -rf var/
