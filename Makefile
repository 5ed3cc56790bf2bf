# make run   - install, migrate, load demo data when empty, start web + worker + periodic jobs
# make test  - the whole suite on SQLite, then on PostgreSQL (skipped with a line when absent)
# make lint  - ruff, mypy (django-stubs) and the import-linter layer contract
# make stack - the production topology here: nginx, 2 gunicorn, 2 workers, scheduler, PostgreSQL,
#              Redis, S3 (moto), SMTP sink, SMS stand-in, under supervisord (docs/deployment.md)
# make stack-test - that topology under faults (kills, PostgreSQL and Redis restarts); in .ci/run
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install messages screenshots lint stack stack-test

$(STAMP): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.lock
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	$(VENV)/bin/python -m pip install -q -r requirements-test.lock
	touch $(TEST_STAMP)

install: $(STAMP)

run: $(STAMP)
	bash scripts/run.sh

test: $(TEST_STAMP)
	bash scripts/test.sh

# The test lock too: the SMTP sink (aiosmtpd) and the S3 stand-in (moto) are test packages.
stack: $(TEST_STAMP)
	$(VENV)/bin/python scripts/stack.py

# The topology under faults: files claims through nginx while a gunicorn and a worker are killed
# and PostgreSQL and Redis restart (stack_tests/test_topology.py; a few minutes).
stack-test: $(TEST_STAMP)
	STACK_TESTS=1 $(VENV)/bin/python -m pytest stack_tests -p no:cacheprovider -q

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

messages: $(STAMP)
	$(VENV)/bin/python manage.py makemessages -l az -l en -l ru --no-obsolete --ignore=.venv --ignore=var --ignore=screenshots --ignore=node_modules
	$(VENV)/bin/python manage.py compilemessages --ignore=.venv
