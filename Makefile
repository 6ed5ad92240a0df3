# Vigil: `make run` starts the whole system locally, `make test` runs every test.
# Needs only Python 3.11+ and pip: everything else is installed into .venv and .venv-scanners.

PYTHON ?= python3
VENV := .venv
SCANNERS := .venv-scanners
BIN := $(VENV)/bin
PACKAGES := libs/common libs/devstack services/gateway services/ingest services/static-scan \
            services/ai-hunter services/validator services/notifier clients/python
PYPROJECTS := $(foreach p,$(PACKAGES),$(p)/pyproject.toml)

# Scanner CLIs live in their own environment; the services find them through these settings.
export VIGIL_SEMGREP_BIN ?= $(CURDIR)/$(SCANNERS)/bin/semgrep
export VIGIL_BETTERLEAKS_BIN ?= $(CURDIR)/$(SCANNERS)/bin/betterleaks
# Offline OSV advisories for the dependency audit: the shared folder beside the clone, if any.
OSV_DIR := $(abspath $(CURDIR)/../shared/osv)
export VIGIL_OSV_DIR ?= $(if $(wildcard $(OSV_DIR)),$(OSV_DIR),)

.PHONY: install run test lint fmt clean images bench

install: $(VENV)/.installed $(SCANNERS)/.installed

$(VENV)/.installed: $(PYPROJECTS) requirements/dev.txt requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Vigil needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt -r requirements/dev.txt \
		$(foreach p,$(PACKAGES),-e $(p))
	@touch $@

$(SCANNERS)/.installed: requirements/scanners.txt
	$(PYTHON) -m venv $(SCANNERS)
	$(SCANNERS)/bin/pip install --quiet --upgrade pip
	$(SCANNERS)/bin/pip install --quiet -r requirements/scanners.txt
	@touch $@

run: install
	$(BIN)/python -m vigil_devstack.run

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/notifier.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# One container image per service (services/<name>/Dockerfile, build context: the repository
# root). Needs Docker, which `make run` and `make test` do not. Push them to your registry and
# set the overlay's images (deploy/k8s/README.md).
IMAGE_REGISTRY ?= vigil
IMAGE_TAG ?= dev
IMAGE_SERVICES := gateway ingest static-scan ai-hunter validator notifier
images:
	$(foreach s,$(IMAGE_SERVICES),docker build -f services/$(s)/Dockerfile -t $(IMAGE_REGISTRY)/$(s):$(IMAGE_TAG) . &&) true

clean:
	rm -rf $(VENV) $(SCANNERS)
