#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and local replicas (issue 18).
#
#   scripts/pg.sh start DIR   initdb into DIR (as the `postgres` user when run as root: initdb
#                             refuses root), start it on a free 127.0.0.1 port, print its URL
#                             (also written to DIR/url). Installs Debian's postgresql when missing.
#   scripts/pg.sh stop DIR    stop it (immediate) and remove DIR.
#   scripts/pg.sh url DIR     print the URL again.
#
# The server trusts local connections (a test cluster: never expose it). The URL names the
# `postgres` superuser and database; tests create one database each from it.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url DIR" >&2; exit 2; }

bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "$cmd" in
  start)
    if ! bin="$(bindir)"; then
      echo "pg.sh: installing postgresql (apt-get)" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
      bin="$(bindir)"
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
    port="$(free_port)"
    opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=200 ${PG_OPTS:-}"
    echo "$opts" > "$dir/opts"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 30 -o "$opts" start >/dev/null
    url="postgres://postgres@127.0.0.1:$port/postgres"
    echo "$bin" > "$dir/bin"
    echo "$url" > "$dir/url"
    echo "$url"
    ;;
  stop)
    if [ -f "$dir/bin" ] && [ -d "$dir/data" ]; then
      as_pg "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  url)
    cat "$dir/url"
    ;;
  *)
    echo "usage: $0 start|stop|url DIR" >&2; exit 2 ;;
esac
