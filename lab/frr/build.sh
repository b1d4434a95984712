#!/usr/bin/env bash
# Build localhost/lgsec-frr:8 (FRRouting + sshd on the lab's Debian 12 image); reused when present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/../containers.conf"
image=localhost/lgsec-frr:8
if [ -z "${LGSEC_REBUILD:-}" ] && podman image exists "$image"; then
  echo "lab: $image already built"; exit 0
fi
echo "lab: building $image"
podman build -q -t "$image" -f "$here/Containerfile" "$here" >/dev/null
podman images --filter reference="$image"
