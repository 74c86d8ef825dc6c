# Two commands for a new user: `make run` and `make test`. Both create .venv and
# install the pinned requirements when a requirements file changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/datahub
PYTEST_ARGS ?=
EMULATOR_PORT ?= 8001
API_PORT ?= 8000
DEMO_ROWS ?= 200
MAX_STALENESS ?= 10

CHROMIUM ?= /usr/bin/chromium

.PHONY: run test soak lint install browser clean retire-check

install: $(STAMP)

$(STAMP): requirements/base.txt requirements/test.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/test.txt
	@touch $(STAMP)

# make run: `manage.py runlocal` (core/management/commands/runlocal.py) checks that the ports
# are free, migrates, starts the CRM emulator (seeded with demo data), the change follower and
# the API server, and supervises them: when one fails to start or stops, it names it, shows the
# end of its log, stops the others and fails. Ctrl-C stops them all. Once the CRM is retired it
# starts the server alone. Every process writes its metrics under .run/prometheus (emptied once
# the ports are found free), and /metrics adds them up.
run: export PROMETHEUS_MULTIPROC_DIR = $(CURDIR)/.run/prometheus
run: $(STAMP)
	@mkdir -p .run/prometheus
	@$(BIN)/python manage.py runlocal --api-port $(API_PORT) --emulator-port $(EMULATOR_PORT) \
	    --demo-rows $(DEMO_ROWS) --max-staleness $(MAX_STALENESS)

# The end-to-end test drives the distribution's headless Chromium; install it once if missing.
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Chromium for the browser test (Debian package 'chromium')..."; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	  test -x $(CHROMIUM) || { echo "Chromium could not be installed at $(CHROMIUM)"; exit 1; }; }

# make test: the suite on SQLite, and on PostgreSQL when one answers at 127.0.0.1:5432. With two
# cores or more the two run side by side (each suite waits on the CRM emulator and on its
# database for much of its time): SQLite's output shows as it runs, PostgreSQL's is kept in
# .test-postgresql.log and shown when SQLite's ends. TEST_SIDE_BY_SIDE=0 runs them one after
# the other. Ctrl-C stops both.
TEST_SIDE_BY_SIDE ?= $(shell [ "$$(nproc 2>/dev/null || echo 1)" -ge 2 ] && echo 1 || echo 0)
PG_LOG := .test-postgresql.log
# A command a shell without job control starts with & ignores SIGINT, and so does every process
# it starts (the tests of Ctrl-C in `make run` would wait forever): put the default back first.
WITH_SIGINT := $(BIN)/python -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])'

test: $(STAMP) browser
	@status=0; ran=""; pgpid=""; \
	if $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2).close()' 2>/dev/null; \
	then pg=1; else pg=0; fi; \
	if [ $$pg = 1 ] && [ "$(TEST_SIDE_BY_SIDE)" = 1 ]; then \
	  echo "=== test suites on SQLite and on PostgreSQL ($(PG_URL)) side by side; PostgreSQL's output follows SQLite's ==="; \
	  DATABASE_URL=$(PG_URL) $(WITH_SIGINT) -m pytest $(PYTEST_ARGS) > $(PG_LOG) 2>&1 & pgpid=$$!; \
	  trap 'kill -INT $$pgpid 2>/dev/null; wait $$pgpid; exit 130' INT TERM; \
	fi; \
	echo "=== test suite on SQLite ==="; \
	if DATABASE_URL=sqlite:///$(CURDIR)/.test-db.sqlite3 $(BIN)/python -m pytest $(PYTEST_ARGS); \
	then ran="SQLite (passed)"; else status=1; ran="SQLite (FAILED)"; fi; \
	if [ $$pg = 1 ]; then \
	  echo "=== test suite on PostgreSQL ($(PG_URL)) ==="; \
	  if [ -n "$$pgpid" ]; then wait $$pgpid; pgstatus=$$?; cat $(PG_LOG); \
	  else DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); pgstatus=$$?; fi; \
	  if [ $$pgstatus = 0 ]; then ran="$$ran, PostgreSQL (passed)"; else status=1; ran="$$ran, PostgreSQL (FAILED)"; fi; \
	else ran="$$ran; PostgreSQL not reachable at 127.0.0.1:5432, not run"; fi; \
	echo "=== backends: $$ran ==="; \
	exit $$status

# Rehearse retiring the CRM on a temporary copy of the tree (docs/retiring-cdms.md); under 2 minutes.
retire-check: $(STAMP)
	@if [ -f .ci/retire.py ]; then PG_URL=$(PG_URL) $(BIN)/python .ci/retire.py; \
	else echo "The CRM is retired: nothing to rehearse."; fi

# make soak: the tests marked `soak` at full length (SOAK=1; SOAK_SECONDS, default 600, per
# soak test) on SQLite, then on PostgreSQL when it answers.
soak: $(STAMP)
	@status=0; ran=""; \
	echo "=== soak on SQLite ==="; \
	if SOAK=1 DATABASE_URL=sqlite:///$(CURDIR)/.soak-db.sqlite3 $(BIN)/python -m pytest -m soak -s $(PYTEST_ARGS); \
	then ran="SQLite (passed)"; else status=1; ran="SQLite (FAILED)"; fi; \
	if $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2).close()' 2>/dev/null; then \
	  echo "=== soak on PostgreSQL ($(PG_URL)) ==="; \
	  if SOAK=1 DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -m soak -s $(PYTEST_ARGS); \
	  then ran="$$ran, PostgreSQL (passed)"; else status=1; ran="$$ran, PostgreSQL (FAILED)"; fi; \
	else ran="$$ran; PostgreSQL not reachable at 127.0.0.1:5432, not run"; fi; \
	echo "=== soak: $$ran ==="; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .run .test-db.sqlite3 $(PG_LOG)
