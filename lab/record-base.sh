#!/bin/bash
# Record tests/fixtures/linux/base-debian<N>.json: the gather module's facts on the stock lab
# image (systemd booted, as in the lab), read as root with podman exec. The module's main()
# alone needs Ansible, so a stub of ansible.module_utils stands in for it.
#   bash lab/record-base.sh 12 tests/fixtures/linux/base-debian12.json
set -euo pipefail
version=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root/lab/containers.conf}
name=lgsec-record-$version
podman rm -f "$name" >/dev/null 2>&1 || true
podman run -d --name "$name" --systemd=always "localhost/lgsec-debian:$version" /sbin/init >/dev/null
trap 'podman rm -f "$name" >/dev/null 2>&1' EXIT
podman exec "$name" systemctl is-system-running --wait >/dev/null || true
podman exec "$name" mkdir -p /tmp/rec/ansible/module_utils
podman cp "$root/library/lgsec_linux_facts.py" "$name:/tmp/rec/lgsec_linux_facts.py"
podman exec "$name" bash -c 'cd /tmp/rec && touch ansible/__init__.py ansible/module_utils/__init__.py &&
  echo "AnsibleModule = None" > ansible/module_utils/basic.py'
podman exec "$name" python3 -c '
import json, sys
sys.path.insert(0, "/tmp/rec")
import lgsec_linux_facts as m
json.dump(m.gather(), sys.stdout)' > "$out.tmp"
python3 - "$out.tmp" "$out" "$version" <<'PY'
import json, sys, time
facts = json.load(open(sys.argv[1]))
note = (f"recorded on localhost/lgsec-debian:{sys.argv[3]} (stock) on {time.strftime('%Y-%m-%d')}: container booted "
        "with /sbin/init (systemd running, as in the lab), then library/lgsec_linux_facts.py gather() run as root "
        "with podman exec (a stub for ansible.module_utils, which main() alone uses); lab/record-base.sh")
json.dump({"_fixture": note, **facts}, open(sys.argv[2], "w"), indent=1, ensure_ascii=False, sort_keys=True)
PY
rm -f "$out.tmp"
