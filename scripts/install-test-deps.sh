#!/usr/bin/env bash
# Installs and starts the system services the test suite needs, on Debian or Ubuntu, as root.
# Safe to run again: it installs only what is missing and starts only what is stopped.
set -euo pipefail

log() { printf '[install-test-deps] %s\n' "$*"; }
# shellcheck source=apt-install.sh
source "$(dirname "$0")/apt-install.sh"

packages=()
command -v pg_ctlcluster >/dev/null 2>&1 || packages+=(postgresql)
command -v pg_isready >/dev/null 2>&1 || packages+=(postgresql-client)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
# Browser tests of calls drive Debian's Chromium; one of them relays a call through a real coturn.
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v turnserver >/dev/null 2>&1 || packages+=(coturn)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)

apt_install install-test-deps ${packages[@]+"${packages[@]}"}

# PostgreSQL on 127.0.0.1:5432, with the postgres role trusted from loopback (a test machine's setup).
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  log "trusting the postgres role from loopback in $hba (test machines only)"
  sed -i '1i host all postgres 127.0.0.1/32 trust\nhost all postgres ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  sleep 1
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null
fi
log "PostgreSQL is ready at postgres://postgres@127.0.0.1:5432/postgres"

# Redis on 127.0.0.1:6379, keeping nothing on disk (tests only).
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
log "Redis is ready at redis://127.0.0.1:6379"

# The mediasoup worker for calls (its own script, which users run too).
bash "$(dirname "$0")/install-mediasoup-worker.sh"
