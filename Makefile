# make run   - install, migrate, load demo data when empty, start web + worker + periodic jobs
# make test  - the whole suite on SQLite, then on PostgreSQL (skipped with a line when absent)
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test install messages

$(STAMP): requirements.lock pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	bash scripts/run.sh

test: $(STAMP)
	bash scripts/test.sh

messages: $(STAMP)
	$(VENV)/bin/python manage.py makemessages -l az -l en -l ru --no-obsolete --ignore=.venv --ignore=var --ignore=screenshots --ignore=node_modules
	$(VENV)/bin/python manage.py compilemessages --ignore=.venv
