#!/usr/bin/env bash
# Runs `make test` (or any make target) of this checkout on a newer QGIS: in a Debian system made
# with mmdebstrap and cached outside the checkout, one per Debian suite.
#
#   .ci/debian_qgis.sh QGIS_VERSION [MAKE ARGUMENTS…]      (as root; `make test-qgis QGIS=3.44`)
#
#   QGIS_VERSION  3.22 → Debian 12 bookworm, 3.40 → Debian 13 trixie, 3.44 → Debian unstable sid
#   MAKE ARGUMENTS default to `test`; e.g. `test PYTEST_ARGS="-k batch"`.
#   .ci/debian_qgis.sh QGIS_VERSION -- COMMAND…  runs COMMAND in /src instead (e.g. `-- bash`).
#
# The first call for a suite builds the system (QGIS and what `make test` needs, from the Debian
# archive) into $QGIS_DEBIAN_CACHE/debian-SUITE; later calls reuse it and rebuild it only when the
# package list below (or the suite) changes. The checkout is bind-mounted at /src and `make` runs
# there with VENV=/opt/venv, a virtual environment inside the cached system (kept between runs, so
# pip installs only once per system). The host's pip configuration, CA certificates and local
# package folders go in with it, and the host's pip cache is shared to save downloads.
set -euo pipefail

QGIS_VERSION=${1:?"usage: $0 QGIS_VERSION [MAKE ARGUMENTS…] (QGIS_VERSION: 3.22, 3.40 or 3.44)"}
shift
[ $# -gt 0 ] || set -- test

case "$QGIS_VERSION" in
  3.22) SUITE=bookworm ;;
  3.40) SUITE=trixie ;;
  3.44) SUITE=sid ;;
  *) echo "$0: no Debian suite known for QGIS $QGIS_VERSION (3.22, 3.40, 3.44)" >&2; exit 2 ;;
esac

# Ctrl-C and kill end the script through `exit`, so the EXIT traps below (cleanup) run.
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || { echo "$0: needs root (mmdebstrap, chroot, mount); run it with sudo" >&2; exit 2; }

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE_ROOT=${QGIS_DEBIAN_CACHE:-/var/cache/water-logreg-plugin}
ROOTFS=$CACHE_ROOT/debian-$SUITE
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# What `make test` needs: the Makefile's SYSTEM_PACKAGES (so its `system` step finds them and
# installs nothing), python3-pip (pip inside the venv), make, mount (tests/core/test_outputs.py
# mounts a small tmpfs) and ca-certificates.
PACKAGES=(qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-numpy python3-venv python3-pip
          xvfb xauth make mount ca-certificates locales)

# The stamp names everything the system is built from; a different one means rebuild.
STAMP_TEXT="suite=$SUITE mirror=$MIRROR packages=${PACKAGES[*]} layout=1"
STAMP_HASH=$(printf '%s' "$STAMP_TEXT" | sha256sum | cut -c1-16)

log() { printf '\n=== %s: %s\n' "$(date +%T)" "$*" >&2; }

build_rootfs() {
  command -v mmdebstrap >/dev/null || { apt-get update -q && apt-get install -y -q mmdebstrap; }
  mkdir -p "$CACHE_ROOT"
  # Built beside the cache and renamed into place, so a killed build never leaves a half system
  # where a later call would take it for a whole one.
  local building=$CACHE_ROOT/.building-$SUITE-$$
  rm -rf "$CACHE_ROOT"/.building-"$SUITE"-* "$CACHE_ROOT"/.old-"$SUITE"-*
  trap 'rm -rf "$building"' EXIT
  log "building Debian $SUITE with QGIS into $ROOTFS (stamp $STAMP_HASH)"
  local started=$SECONDS
  # sid's Release file may have expired (snapshots, a stalled archive): don't let apt refuse it.
  mmdebstrap --variant=apt --mode=root \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --aptopt='APT::Install-Recommends "false"' \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    "$SUITE" "$building" "$MIRROR"
  echo "$STAMP_TEXT" > "$building/.water-logreg-stamp-$STAMP_HASH"
  if [ -d "$ROOTFS" ]; then mv "$ROOTFS" "$CACHE_ROOT/.old-$SUITE-$$"; fi
  mv "$building" "$ROOTFS"
  rm -rf "$CACHE_ROOT/.old-$SUITE-$$"
  trap - EXIT
  log "Debian $SUITE built in $((SECONDS - started)) s ($(du -sh "$ROOTFS" | cut -f1))"
}

# One run per suite at a time (builds, the venv in /opt/venv and the mounts are per suite); a
# second one waits here.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock-$SUITE"
flock -n 9 || { log "waiting for another run on Debian $SUITE to end"; flock 9; }

if [ ! -e "$ROOTFS/.water-logreg-stamp-$STAMP_HASH" ]; then
  build_rootfs
else
  log "reusing Debian $SUITE in $ROOTFS (stamp $STAMP_HASH)"
fi

# --- Mounts, undone on every exit (success, failure, Ctrl-C) in the reverse order. ---------------
MOUNTED=()
unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount -R "${MOUNTED[i]}" 2>/dev/null || umount -lR "${MOUNTED[i]}" || true
  done
  MOUNTED=()
}
trap unmount_all EXIT

# bind SOURCE TARGET [ro]: mounts SOURCE at ROOTFS/TARGET (made if missing), read-only if asked.
bind() {
  local target=$ROOTFS$2
  if [ -d "$1" ]; then mkdir -p "$target"; else mkdir -p "$(dirname "$target")"; touch "$target"; fi
  mount --rbind "$1" "$target"
  MOUNTED+=("$target")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$target"; fi
  mount --make-rslave "$target"
}

mkdir -p "$ROOTFS/proc" "$ROOTFS/sys"
mount -t proc proc "$ROOTFS/proc"; MOUNTED+=("$ROOTFS/proc")
bind /sys /sys
bind /dev /dev
mkdir -p "$ROOTFS/tmp" && chmod 1777 "$ROOTFS/tmp"
mount -t tmpfs -o mode=1777 tmpfs "$ROOTFS/tmp"; MOUNTED+=("$ROOTFS/tmp")
bind "$REPO" /src
# Where the pip configuration points: local wheel folders and indexes (read-only), and the cache.
for folder in /opt/wheels /opt/pypi /opt/pypi-more; do
  if [ -d "$folder" ]; then bind "$folder" "$folder" ro; fi
done
mkdir -p /root/.cache/pip
bind /root/.cache/pip /root/.cache/pip

# The host's pip configuration, CA certificates and name resolution, copied in on every run.
for file in /etc/pip.conf /etc/xdg/pip /root/.config/pip /root/.pip /etc/resolv.conf; do
  if [ -e "$file" ]; then
    rm -rf "${ROOTFS:?}$file"; mkdir -p "$(dirname "$ROOTFS$file")"; cp -rL "$file" "$ROOTFS$file"
  fi
done
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"

# --- The run. -------------------------------------------------------------------------------------
# A clean environment: the host's PIP_* settings (where its configuration is in variables), and
# what Qt, make and the tests need.
ENVIRONMENT=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
             LANG=C.UTF-8 LC_ALL=C.UTF-8 QT_QPA_PLATFORM=offscreen DEBIAN_FRONTEND=noninteractive
             TERM="${TERM:-dumb}")
while IFS= read -r variable; do ENVIRONMENT+=("$variable"); done < <(env | grep -E '^(PIP_|https?_proxy=|HTTPS?_PROXY=|no_proxy=|NO_PROXY=)' || true)

in_chroot() { chroot "$ROOTFS" /usr/bin/env -i "${ENVIRONMENT[@]}" "$@"; }

log "Debian $SUITE: $(in_chroot sh -c '. /etc/os-release; echo "$PRETTY_NAME"')"
in_chroot /usr/bin/python3 - <<'EOF' >&2
import sys
import numpy
from osgeo import gdal
from qgis.core import Qgis
print(f"QGIS {Qgis.version()}, Python {sys.version.split()[0]}, numpy {numpy.__version__}, "
      f"GDAL {gdal.__version__}")
EOF

if [ "$1" = -- ]; then shift; COMMAND=(sh -c 'cd /src && exec "$@"' sh "$@"); else COMMAND=(make -C /src VENV=/opt/venv "$@"); fi
log "${COMMAND[*]}"
started=$SECONDS
status=0
in_chroot "${COMMAND[@]}" || status=$?
log "$* on QGIS $QGIS_VERSION (Debian $SUITE) ended with status $status after $((SECONDS - started)) s"
exit "$status"
