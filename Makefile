# The two commands (see README): `make run` and `make test`. Both build .venv on first use.
# `make test-fast` is the everyday loop: the suite without tests marked slow (browser,
# subprocess and service tests, long statistical checks), under a minute.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test test-fast lint bench-data clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_demo
	@echo ""
	@echo "  Market Pulse: http://$(HOST):$(PORT)/   login: demo / password: demo"
	@echo ""
	exec $(PY) manage.py runpulse --serve $(HOST):$(PORT)

test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not slow"

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm test-artifacts .pytest_cache .ruff_cache
