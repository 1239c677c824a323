# Two commands: `make run` serves the demo site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: preflight run superuser test test-fast lint bench faultload chaos clean

# pip prints a line per download, then unpacks for half a minute without a word:
# heartbeat.py says "still installing" through every 5 s of silence. pip upgrades
# itself only where the venv's pip is older than 23.
PIP_INSTALL := $(PY) -m pip install --prefer-binary --progress-bar on
SAY_STILL = $(PYTHON) devtools/heartbeat.py

# make run and make bench need the development tools (requirements-dev.txt);
# production installs requirements.txt alone.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || { echo "Creating the virtualenv $(VENV)..."; $(PYTHON) -m venv $(VENV); }
	@$(PY) -c 'import sys, pip; sys.exit(int(pip.__version__.split(".")[0]) < 23)' \
		|| { echo "Upgrading the virtualenv's pip..."; $(PIP_INSTALL) --quiet --upgrade pip; }
	@echo "Installing the Python packages into $(VENV) (about 40 s the first time: downloads, then unpacking)..."
	$(SAY_STILL) "installing the Python packages" -- $(PIP_INSTALL) -r requirements-dev.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	@echo "Installing the test packages into $(VENV)..."
	$(SAY_STILL) "installing the test packages" -- $(PIP_INSTALL) -r requirements-test.txt
	touch $@

# Said before anything is installed: make run runs already here, or its port is taken.
preflight:
	@$(PYTHON) devtools/preflight.py --port $(PORT)

run: preflight $(VENV)/.installed
	bash devtools/system-deps run
	DJANGO_SETTINGS_MODULE=reviews_site.settings_dev $(PY) manage.py run_local --port $(PORT)

# A staff user for /admin/ of a running `make run`, from a second shell (it reads var/local.env).
# Asks for name, email and password; with DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD set, asks nothing.
superuser:
	@test -x $(PY) || { echo "No $(VENV) here yet: start make run first, then make superuser in a second shell." >&2; exit 1; }
	$(PY) -m devtools.local_env createsuperuser $(if $(DJANGO_SUPERUSER_PASSWORD),--noinput)

# The integration and browser suites must run on DynamoDB Local: no silent fallback to moto.
test: $(VENV)/.installed-test
	bash devtools/system-deps test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	EMBEDDED_DYNAMODB=dynamodb-local $(PY) -m pytest -n 2 --dist loadgroup

test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not integration and not browser"

# Load-tests the caches end to end (about 2 minutes); results in var/bench/results.md.
bench: $(VENV)/.installed-test
	bash devtools/system-deps bench
	$(PY) -m devtools.bench

# Redis faults under a bounded load (about 2 minutes): 5xx, lost reviews, stale pages; var/faultload/results.md.
faultload: $(VENV)/.installed-test
	bash devtools/system-deps bench
	DJANGO_SETTINGS_MODULE=reviews_site.settings_dev $(PY) -m devtools.faultload

# Seeded random faults under load, checked and shrunk (about a minute per run); var/chaos/report.md.
# SEED replays a schedule; FAULTS, WINDOW (seconds) and ONLY (catalogue names, comma-separated) shape it;
# TOPOLOGY=cluster runs it on a 3+3 node Redis Cluster, with the faults that apply there.
SEED ?= 1
FAULTS ?= 6
WINDOW ?= 30
ONLY ?=
TOPOLOGY ?= replica
chaos: $(VENV)/.installed-test
	bash devtools/system-deps bench
	DJANGO_SETTINGS_MODULE=reviews_site.settings_dev $(PY) -m devtools.chaos --seed $(SEED) --faults $(FAULTS) \
		--window $(WINDOW) --topology $(TOPOLOGY) $(if $(ONLY),--only $(ONLY))

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var .dynamodb-local
