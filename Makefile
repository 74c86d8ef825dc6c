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

# make run: the CRM emulator (seeded with demo data) and the API server; Ctrl-C stops them all.
# Every process it starts writes its metrics under .run/prometheus, and /metrics adds them up.
# Each background process appends its pid to `pids`; to add one, start it the same way. The
# trap clears itself before killing those pids: the old `kill 0` trap signalled its own shell
# and re-entered itself until dash crashed. Once the CRM is retired (no cdms_api/), the CRM
# processes are not started and the server runs alone.
run: export PROMETHEUS_MULTIPROC_DIR = $(CURDIR)/.run/prometheus
run: $(STAMP)
	@mkdir -p .run
	@rm -rf .run/prometheus && mkdir -p .run/prometheus
	$(BIN)/python manage.py migrate --noinput
	@pids=""; ports="$(API_PORT)"; \
	trap 'trap - INT TERM EXIT; kill $$pids 2>/dev/null; wait; echo "Stopped."; exit 0' INT TERM EXIT; \
	if [ -d cdms_api ]; then \
	  export CDMS_BASE_URL=http://127.0.0.1:$(EMULATOR_PORT) CDMS_MAX_STALENESS=$(MAX_STALENESS); \
	  ports="$(EMULATOR_PORT) $$ports"; \
	  $(BIN)/python -m cdms_api.emulator --host 127.0.0.1 --port $(EMULATOR_PORT) \
	      --data .run/emulator.sqlite3 --seed-demo $(DEMO_ROWS) & pids="$$pids $$!"; \
	  $(BIN)/python manage.py cdms_follow --sweep-interval 30 > .run/follower.log 2>&1 & pids="$$pids $$!"; \
	fi; \
	$(BIN)/python manage.py runserver --noreload 127.0.0.1:$(API_PORT) & pids="$$pids $$!"; \
	for port in $$ports; do \
	  n=0; until $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $$port), 1)" 2>/dev/null \
	    || [ $$n -ge 100 ]; do n=$$((n+1)); sleep 0.3; done; \
	done; \
	echo; $(BIN)/python manage.py create_demo_user --password demo --base-url http://127.0.0.1:$(API_PORT); \
	if [ -d cdms_api ]; then \
	  echo "  CRM emulator: http://127.0.0.1:$(EMULATOR_PORT)/XRMServices/2011/OrganizationData.svc"; \
	  echo "  Change follower: manage.py cdms_follow, log in .run/follower.log; reads lag the CRM by at most $(MAX_STALENESS) s"; \
	  $(BIN)/python manage.py cdms_services; fi; \
	echo "Press Ctrl-C to stop."; echo; \
	wait

# The end-to-end test drives the distribution's headless Chromium; install it once if missing.
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Chromium for the browser test (Debian package 'chromium')..."; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	  test -x $(CHROMIUM) || { echo "Chromium could not be installed at $(CHROMIUM)"; exit 1; }; }

test: $(STAMP) browser
	@status=0; ran=""; \
	echo "=== test suite on SQLite ==="; \
	if DATABASE_URL=sqlite:///$(CURDIR)/.test-db.sqlite3 $(BIN)/python -m pytest $(PYTEST_ARGS); \
	then ran="SQLite (passed)"; else status=1; ran="SQLite (FAILED)"; fi; \
	if $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 5432), 2).close()' 2>/dev/null; then \
	  echo "=== test suite on PostgreSQL ($(PG_URL)) ==="; \
	  if DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); \
	  then ran="$$ran, PostgreSQL (passed)"; else status=1; ran="$$ran, PostgreSQL (FAILED)"; fi; \
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
	rm -rf $(VENV) .run .test-db.sqlite3
