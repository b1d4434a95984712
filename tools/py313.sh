#!/bin/bash
# make py313: the unit tests once with the controller on Python 3.13, inside the Debian 13 lab
# image (localhost/lgsec-debian:13, its python3). The container gets no index: the wheels for
# cp313 are downloaded here first (build/wheelhouse-cp313), Debian 13's git package and package
# index too (build/debs-trixie, through a throwaway container with apt), then installed there offline.
# Installed: the project's dependencies and what the unit tests import (pytest, hypothesis,
# ansible-builder for test_awx), no lint or molecule; the collections requirements.yml names
# (what the execution environment installs) copied from this venv's ansible 12 (pure files, the
# same versions), instead of unpacking all 93 collections of the `ansible` wheel. The wheel stays
# in the wheelhouse: test_dist installs `lgsec[collections]` in a fresh venv, as users do.
# All of it is kept between runs under build/ (a venv for 3.13 in build/venv-cp313, rebuilt when
# the requirements, the collections or the image change).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
HOUSE=build/wheelhouse-cp313
DEBS=build/debs-trixie
VENV=build/venv-cp313
IMAGE=localhost/lgsec-debian:13
NAME=${LGSEC_PY313_NAME:-lgsec-py313-$$}  # container name (each engineer names their own)
mkdir -p "$HOUSE" "$DEBS"
.venv/bin/python - > "$HOUSE/requirements.txt" <<'PY'
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
wanted = ("pytest", "hypothesis", "ansible-builder")
test = [r for r in extras["test"] if r.split("==")[0].split("[")[0] in wanted]
for req in [*project["dependencies"], *extras["collections"], *test, "setuptools>=68", "pip"]:
    print(req.split("#")[0].strip())
PY
if ! cmp -s "$HOUSE/requirements.txt" "$HOUSE/.downloaded" 2>/dev/null; then
  "$PIP" download -q -d "$HOUSE" --only-binary=:all: --python-version 3.13 --implementation cp --abi cp313 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --platform linux_x86_64 -r "$HOUSE/requirements.txt"
  cp "$HOUSE/requirements.txt" "$HOUSE/.downloaded"
fi
grep -v '^ansible==' "$HOUSE/requirements.txt" > "$HOUSE/requirements-venv.txt"  # collections: copied below
# A Debian 13 controller as it stands in service, from Debian's own packages: git (network
# backups are a git store: test_network) and the package index (/var/lib/apt/lists; `lgsec harden
# --check` asks apt what it would install: test_secrets). The image has neither (its lists are
# removed when it is built; it is not rebuilt here) and the test container has no network, so both
# are fetched once through a throwaway container with apt (build/debs-trixie, kept between runs).
if [ ! -e "$DEBS/.fetched" ]; then
  rm -rf "$DEBS" && mkdir -p "$DEBS/lists"
  podman run --rm --name "$NAME-apt" -v "$PWD/$DEBS:/debs" "$IMAGE" bash -euo pipefail -c '
    apt-get update -qq && apt-get install -y -qq --download-only --no-install-recommends git >/dev/null
    cp /var/cache/apt/archives/*.deb /debs/
    find /var/lib/apt/lists -maxdepth 1 -type f ! -name lock -exec cp {} /debs/lists/ \;'
  touch "$DEBS/.fetched"
fi
# the collections requirements.yml names, from this venv (ansible 12's copies)
SITE=$(.venv/bin/python -c 'import ansible_collections, os; print(os.path.dirname(ansible_collections.__path__[0]))')
COLLECTIONS=$(.venv/bin/python -c '
import yaml
for c in yaml.safe_load(open("requirements.yml"))["collections"]:
    print("ansible_collections/" + c["name"].replace(".", "/"))')
KEY=$({ podman image inspect -f '{{.Id}}' "$IMAGE"; cat "$HOUSE/requirements-venv.txt" pyproject.toml setup.py;
        for c in $COLLECTIONS; do echo "$c"; cat "$SITE/$c/MANIFEST.json"; done; } | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.key" 2>/dev/null)" != "$KEY" ]; then rm -rf "$VENV"; fi
mkdir -p "$VENV"
trap 'podman rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
# A booted container (systemd, as the lab runs them): the unit tests include real runs on
# localhost (lgsec harden of test_worklog) that restart services. No network: --no-index.
# /tmp in memory: test_dist's fresh venv with the ansible wheel (~470 MB of small files).
# ../shared (the specification and the policy text, beside the checkout): /shared beside /src,
# so test_catalog and test_selfinspect run here as they do on 3.11 (skipped, saying so, without it)
shared=(); [ -d ../shared ] && shared=(-v "$(cd ../shared && pwd):/shared:ro")
podman run -d --name "$NAME" --network none --systemd=always --tmpfs /tmp:rw,size=4g,mode=1777 "${shared[@]}" \
  -v "$PWD/$HOUSE:/wheels:ro" -v "$PWD/$DEBS:/debs:ro" -v "$PWD/$VENV:/venv" "$IMAGE" /sbin/init >/dev/null
# the checkout's files (tracked, and new ones not ignored: no .venv, build/, reports/), copied in;
# tar's status 1 (a file changed while read, e.g. by a test run in the checkout) is no failure
git ls-files -z -co --exclude-standard |
  { tar -c --null -T - --ignore-failed-read --warning=no-file-changed || [ $? -eq 1 ]; } |
  podman exec -i "$NAME" bash -euo pipefail -c 'mkdir /src && tar -x -C /src'
podman exec "$NAME" bash -euo pipefail -c '
  cp /debs/lists/* /var/lib/apt/lists/
  command -v git >/dev/null || dpkg -i /debs/*.deb >/dev/null'
if [ ! -e "$VENV/.key" ]; then
  echo "py313: building $VENV (kept for the next runs)"
  podman exec -w /src "$NAME" bash -euo pipefail -c '
    python3 -m venv --without-pip /venv
    pip=(/venv/bin/python "$(ls /wheels/pip-*.whl)/pip" install -q --no-index --find-links /wheels)
    "${pip[@]}" -r /wheels/requirements-venv.txt
    "${pip[@]}" --no-deps --no-build-isolation -e .'
  # shellcheck disable=SC2086  # one path per word
  tar -C "$SITE" --exclude=__pycache__ -c $COLLECTIONS | podman exec -i "$NAME" bash -euo pipefail -c '
    tar -x -C "$(/venv/bin/python -c "import sysconfig; print(sysconfig.get_path(\"purelib\"))")"'
  echo "$KEY" > "$VENV/.key"
fi
podman exec -w /src "$NAME" bash -euo pipefail -c '
  python3 --version; git --version
  export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels PATH=/venv/bin:$PATH
  /venv/bin/python -m pytest tests/unit -q -p no:cacheprovider -rfs --durations=10
'
