#!/usr/bin/env bash
# frr.frr (network_cli's terminal and cliconf plugins for FRRouting) is not in ansible 12 and
# Galaxy is not reachable: take frr.frr 2.0.2 from the ansible 9.13.0 wheel on PyPI (it works
# with ansible-core 2.19) into ./collections (ansible.cfg collections_path). Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/collections/ansible_collections/frr/frr"
if [ -f "$dest/MANIFEST.json" ]; then echo "frr.frr already in $dest"; exit 0; fi
pip=${PIP:-$root/.venv/bin/pip}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$pip" download -q --no-deps --disable-pip-version-check ansible==9.13.0 -d "$tmp"
"$root/.venv/bin/python" - "$tmp"/ansible-9.13.0-py3-none-any.whl "$root/collections" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith("ansible_collections/frr/frr/")]
    z.extractall(dest, names)
print(f"frr.frr: {len(names)} files into {dest}")
PY
