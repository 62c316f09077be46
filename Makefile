# The two commands a new machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Debian packages: what the hub runs with, and what the tests run against.
# libturbojpeg0 turns photos in process; jpegtran (libjpeg-turbo-progs) is the tests'
# and benchmarks' reference for it.
RUN_PACKAGES := libturbojpeg0 ffmpeg
TEST_PACKAGES := $(RUN_PACKAGES) libjpeg-turbo-progs orthanc orthanc-dicomweb dcmtk dicom3tools libimage-exiftool-perl chromium

.PHONY: run test test-embedded check lint format install system-run system-test migrations bench node-deps apt

run: install system-run node-deps
	$(PY) -m hub.launch

test: install system-test node-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite on SQLite and the filesystem broker, as on a laptop.
test-embedded: install system-test node-deps
	HUB_TEST_EMBEDDED=1 $(PY) -m pytest $(PYTEST_ARGS)

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DJANGO_SECRET_KEY=check HUB_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SECRET_KEY=check HUB_DATA_DIR=$$(mktemp -d) $(PY) manage.py check

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations: install
	DJANGO_SECRET_KEY=dev HUB_DATA_DIR=$$(mktemp -d) $(PY) manage.py makemigrations

bench: install system-test
	$(PY) bench/wrap_photo.py

install: $(VENV)/.installed

# Node packages of the test peers and clients (from the npm registry, pinned by lock files).
NODE_PROJECTS := $(patsubst %/package.json,%,$(wildcard tests/peers/*/package.json mobile_client/*/package.json))
node-deps:
	@if [ -n "$(NODE_PROJECTS)" ] && ! command -v npm >/dev/null; then $(MAKE) --no-print-directory apt PACKAGES="nodejs npm"; fi
	@for p in $(NODE_PROJECTS); do \
	  [ -d $$p/node_modules ] && [ $$p/node_modules -nt $$p/package-lock.json ] || \
	  npm ci --prefix $$p --no-audit --no-fund --loglevel=error || exit 1; \
	done
	@# The app is built every time: source edits do not change the lock file.
	npm run --silent build --prefix mobile_client/pwa

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(MAKE) --no-print-directory apt PACKAGES=python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

system-run:
	@$(MAKE) --no-print-directory apt PACKAGES="$(RUN_PACKAGES)"

system-test:
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_PACKAGES)"

# Installs the Debian packages that are missing: with apt when root, else says how.
apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages:$$missing; install them with: sudo apt-get install$$missing" >&2; exit 1; \
	  fi; \
	fi
