# make run   - install, migrate, load demo data when empty, start web + worker + periodic jobs
# make test  - the whole suite on SQLite, then on PostgreSQL (skipped with a line when absent)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install messages screenshots

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

messages: $(STAMP)
	$(VENV)/bin/python manage.py makemessages -l az -l en -l ru --no-obsolete --ignore=.venv --ignore=var --ignore=screenshots --ignore=node_modules
	$(VENV)/bin/python manage.py compilemessages --ignore=.venv
