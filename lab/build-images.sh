#!/usr/bin/env bash
# Build the lab images localhost/lgsec-debian:12 and :13 from debootstrap (no registry is reachable).
# Reuses an image that already exists; set LGSEC_REBUILD=1 to rebuild.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
mirror=${LGSEC_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
work=${LGSEC_LAB_WORK:-/var/tmp/lgsec-lab}
mkdir -p "$work"
for pair in 12:bookworm 13:trixie; do
  ver=${pair%%:*}; suite=${pair#*:}
  image=localhost/lgsec-debian:$ver
  if [ -z "${LGSEC_REBUILD:-}" ] && podman image exists "$image"; then
    echo "lab: $image already built"; continue
  fi
  base=localhost/debian:$suite-min
  if [ -n "${LGSEC_REBUILD:-}" ] || ! podman image exists "$base"; then
    root="$work/$suite"
    rm -rf "$root"
    echo "lab: debootstrap $suite from $mirror"
    debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/$suite.log" 2>&1 \
      || { tail -20 "$work/$suite.log"; exit 1; }
    tar -C "$root" -c . | podman import - "$base" >/dev/null
    rm -rf "$root"
  fi
  echo "lab: building $image"
  podman build -q --build-arg BASE="$base" -t "$image" -f "$here/Containerfile" "$here" >/dev/null
done
podman images --filter reference='localhost/lgsec-debian*'
