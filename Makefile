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

.PHONY: run test lint install emulator clean

install: $(STAMP)

$(STAMP): requirements/base.txt requirements/test.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/test.txt
	@touch $(STAMP)

run: $(STAMP)
	@mkdir -p .run
	$(BIN)/python manage.py migrate --noinput
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/python -m cdms_api.emulator --host 127.0.0.1 --port $(EMULATOR_PORT) \
	    --data .run/emulator.sqlite3 --seed-demo $(DEMO_ROWS) & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(API_PORT) & \
	wait

test: $(STAMP)
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .run .test-db.sqlite3
