#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use answers on 127.0.0.1:5432 with a
# database "test" that user postgres may use without a password:
#   - running already: only creates the database "test" if it is missing;
#   - installed but stopped: starts its clusters;
#   - missing: installs Debian's postgresql (needs root), lets local TCP
#     connections in without a password (this machine only) and starts it.
# With SAFESIGNAL_TEST_DATABASE_URL set, the database is someone else's and
# this script does nothing.
set -euo pipefail

if [ -n "${SAFESIGNAL_TEST_DATABASE_URL:-}" ]; then
  exit 0
fi
host=127.0.0.1
port=5432

ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$host" -p "$port"
  else
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
  fi
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
    echo "ensure-postgres: need root to run: $*" >&2
    return 1
  fi
}

wait_ready() {
  for _ in $(seq 1 60); do
    ready && return 0
    sleep 0.5
  done
  echo "ensure-postgres: PostgreSQL did not come up on $host:$port" >&2
  return 1
}

if ! ready; then
  installed_now=0
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    installed_now=1
  fi
  if [ "$(pg_lsclusters -h | wc -l)" = 0 ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    as_root pg_createcluster "$version" main >/dev/null
    installed_now=1
  fi
  if [ "$installed_now" = 1 ]; then
    # A cluster this script made: local TCP connections need no password.
    for hba in /etc/postgresql/*/*/pg_hba.conf; do
      if ! grep -q "safesignal-tests" "$hba"; then
        as_root sed -i '1i host all all 127.0.0.1/32 trust # safesignal-tests\nhost all all ::1/128 trust # safesignal-tests' "$hba"
      fi
    done
  fi
  echo "ensure-postgres: starting PostgreSQL" >&2
  pg_lsclusters -h | while read -r version name _; do
    as_root pg_ctlcluster "$version" "$name" start || true
  done
  wait_ready
fi

if ! psql -h "$host" -p "$port" -U postgres -d test -Atqc 'SELECT 1' >/dev/null 2>&1; then
  psql -h "$host" -p "$port" -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null 2>&1 ||
    as_root runuser -u postgres -- psql -qc 'CREATE DATABASE test' >/dev/null
fi
psql -h "$host" -p "$port" -U postgres -d test -Atqc 'SELECT 1' >/dev/null
