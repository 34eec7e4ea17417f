# Two commands do all set-up on a fresh machine (only Python 3.11+ and the package registries needed):
#   make demo   renders a real 30-second 9:16 video offline with the embedded providers
#   make test   runs the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TOPIC  ?= How honeybees tell each other where the flowers are
# `sam validate --lint` lives in its own virtual environment: aws-sam-cli pins boto3 and friends
SAM_VENV ?= .tools/sam
SAM_CLI  ?= aws-sam-cli>=1.130,<2

.PHONY: demo test install install-dev install-sam bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[local]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[local,dev]"
	touch $@ $(VENV)/.installed

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet "$(SAM_CLI)"
	touch $@

install: $(VENV)/.installed
install-sam: $(SAM_VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	$(BIN)/faceless make --topic "$(TOPIC)" --duration 30 --format 9:16

test: $(VENV)/.installed-dev $(SAM_VENV)/.installed
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(SAM_VENV) faceless-output .pytest_cache
