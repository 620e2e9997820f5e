#!/usr/bin/env bash
# Installs the mediasoup worker that calls need: Debian's `mediasoup-worker` 3.8.4 package (suite experimental),
# unpacked under .cache/mediasoup-worker in the project (the system's apt sources are not touched), plus the
# system libraries it links against. The server finds it there without any variable (see sfu/README.md).
# Safe to run again: it does nothing when the worker is in place and runs.
set -euo pipefail

log() { printf '[install-mediasoup-worker] %s\n' "$*"; }
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/mediasoup-worker"
bin="$dest/root/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker"
libs=(libsrtp2-1 libusrsctp2 libuv1 libssl3)

missing=()
for lib in "${libs[@]}"; do dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib"); done
apt_install install-mediasoup-worker ${missing[@]+"${missing[@]}"}

# The worker answers --version only through its channel, so "runs" means: it starts and finds its libraries.
runs() { [[ -x $bin ]] && ! ldd "$bin" | grep -q 'not found'; }

if ! runs; then
  log "fetching Debian's mediasoup-worker into $dest"
  rm -rf "$dest"
  mkdir -p "$dest/lists/partial" "$dest/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian experimental main" \
    >"$dest/sources.list"
  opts=(-o "Dir::Etc::sourcelist=$dest/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$dest/lists"
    -o "Dir::Cache=$dest/cache" -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" update -qq
  (cd "$dest" && apt-get "${opts[@]}" download mediasoup-worker)
  dpkg -x "$dest"/mediasoup-worker_*.deb "$dest/root"
  rm -rf "$dest/lists" "$dest/cache"
  runs || { log "the worker at $bin does not run"; ldd "$bin"; exit 1; }
fi
log "worker ready: $bin"
