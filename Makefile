# lgsec — the two commands of the README, and their parts.
#   make audit   read-only audit of this machine, report in reports/
#   make test    everything the tests need, then unit tests, lint, the molecule lab
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export CONTAINERS_CONF := $(CURDIR)/lab/containers.conf
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)
SCENARIOS ?= network_access accounts mail logging antivirus desktop software
AUDIT_ARGS ?=
LAB_PACKAGES := podman runc debootstrap pamtester openssh-client

.PHONY: audit test venv unit machine lint lab lab-deps molecule bench clean frr-collection network generate

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[collections,test]'
	touch $@

venv: $(BIN)/.installed

audit: venv
	@rc=0; $(BIN)/lgsec audit -o reports $(AUDIT_ARGS) || rc=$$?; \
	case $$rc in 0) echo "compliant (exit 0)";; 1) echo "non-compliant findings (exit 1): see reports/report.json";; \
	  3) echo "some hosts unreachable (exit 3)";; esac; \
	[ $$rc -le 1 ] || exit $$rc

test: venv unit py313 machine lint lab molecule network browser

unit: venv
	$(BIN)/pytest tests/unit tests/windows_live -q  # windows_live: collected, skipped without a Windows host

# Tests that need root on this machine and the lab image (~3 min): the disposal wipe erases loop
# devices (WIPE-RECORDED), the report disk fills up (a small tmpfs) between two audits, a host
# dies during hardening and during an audit, Ctrl-C during both (lab containers).
machine: venv lab
	$(BIN)/pytest tests/disposal tests/faults -q

# The files written from the catalog: the roles' defaults, argument specs and README variable
# tables (tools/generate.py; tests/unit/test_generate.py fails when they are stale).
generate: venv
	$(BIN)/python tools/generate.py
	$(BIN)/python tools/gen_docs.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint -q

lab-deps:
	@missing=""; for p in $(LAB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

lab: lab-deps
	bash lab/build-images.sh

# The scenarios two at a time (MOLECULE_JOBS), longest first: each names its own containers,
# networks and ports (tools/molecule_all.py checks, then runs them); each one's output in
# build/molecule/<scenario>.log, printed in full when it fails; exit 1 when any failed.
molecule: venv lab
	$(BIN)/python tools/molecule_all.py $(SCENARIOS)

# Network devices, live: FRRouting in a container over network_cli (tests/network, ~1.5 min).
frr-collection: venv
	bash lab/frr/collection.sh

network: venv lab frr-collection
	bash lab/frr/build.sh
	$(BIN)/pytest tests/network -q -s  # -s: the table of controls proved live on FRR and on IOS fixtures only

# report.html in a real browser (Debian's chromium, headless; ~115 MB, ~20 s to install; ~25 s of tests):
# counts and language switch; screenshots kept in reports/browser/.
.PHONY: report-deps browser
REPORT_PACKAGES := chromium fonts-ipafont-gothic
report-deps:
	@missing=""; for p in $(REPORT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

browser: venv report-deps
	$(BIN)/pytest tests/browser -q

bench: venv lab
	$(BIN)/python tests/bench/bench.py

clean:
	rm -rf $(VENV) reports .pytest_cache .ruff_cache

# The wheel (lgsec-VERSION-py3-none-any.whl: the package, with the catalog, playbooks, roles and
# plugins as package data) and the Ansible collection lgsec-policy-VERSION.tar.gz, into dist/.
# dist-test: both installed in fresh environments outside the checkout, auditing this machine.
.PHONY: dist dist-test
dist: venv
	rm -rf dist build/lib
	$(BIN)/pip wheel -q --no-deps -w dist .
	$(BIN)/python tools/build_collection.py dist

dist-test: dist
	$(BIN)/pytest tests/unit/test_dist.py -q

# The unit tests once on Python 3.13 (ansible-core 2.19 supports 3.11–3.13): inside the Debian 13
# lab image, wheels for cp313 and Debian 13's git fetched here first, the 3.13 venv kept in build/
# (tools/py313.sh). 2 min 40 s with the caches, 3 min without (2 cores, load average ~1); 3.5 and
# 5 min at load average 3–5.
.PHONY: py313
py313: venv lab
	bash tools/py313.sh
