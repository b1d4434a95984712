#!/bin/bash
# make py313: the unit tests once with the controller on Python 3.13, inside the Debian 13 lab
# image (localhost/lgsec-debian:13, its python3). The container gets no index: the wheels for
# cp313 are downloaded here first (build/wheelhouse-cp313, kept between runs), then installed
# there with --no-index. Installed: the project's dependencies and what the unit tests import
# (pytest, hypothesis, ansible-builder for test_awx), no lint or molecule.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=${PIP:-.venv/bin/pip}
HOUSE=build/wheelhouse-cp313
IMAGE=localhost/lgsec-debian:13
NAME=${LGSEC_PY313_NAME:-lgsec-py313-$$}  # container name (each engineer names their own)
mkdir -p "$HOUSE"
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
trap 'podman rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
# A booted container (systemd, as the lab runs them): the unit tests include real runs on
# localhost (lgsec harden of test_worklog) that restart services. No network: --no-index.
podman run -d --name "$NAME" --network none --systemd=always -v "$PWD/$HOUSE:/wheels:ro" "$IMAGE" /sbin/init >/dev/null
# the checkout's files (tracked, and new ones not ignored: no .venv, build/, reports/), copied in;
# tar's status 1 (a file changed while read, e.g. by a test run in the checkout) is no failure
git ls-files -z -co --exclude-standard |
  { tar -c --null -T - --ignore-failed-read --warning=no-file-changed || [ $? -eq 1 ]; } |
  podman exec -i "$NAME" bash -euo pipefail -c 'mkdir /src && tar -x -C /src'
podman exec -w /src "$NAME" bash -euo pipefail -c '
  python3 --version
  python3 -m venv --without-pip /venv
  pip=(/venv/bin/python "$(ls /wheels/pip-*.whl)/pip" install -q --no-index --find-links /wheels)
  "${pip[@]}" -r /wheels/requirements.txt
  "${pip[@]}" --no-deps --no-build-isolation -e .
  export PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels PATH=/venv/bin:$PATH
  /venv/bin/python -m pytest tests/unit -q -p no:cacheprovider -rfs --durations=10
'
