#!/usr/bin/env bash
# Install and run the real services Callboard can use on a Debian machine (root, no systemd):
# PostgreSQL and Redis on 127.0.0.1, plus Debian's chromium (browser tests), git, and node with npm (the
# tests that drive Callboard with Backstage's own catalog client), plantuml and graphviz (TechDocs diagrams)
# and Ruby on Rails (the scaffolder's fetch:rails runs `rails new`).
#
#   bash scripts/services.sh          install what is missing, start what is stopped (idempotent, fast)
#   bash scripts/services.sh status   show what is installed and running
#   bash scripts/services.sh stop     stop Redis and the PostgreSQL cluster cleanly
#
# Then export the two URLs it prints (the embedded defaults, SQLite and a filesystem broker, need neither).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=${RUN_DIR:-$ROOT/var/run}
PG_PORT=5432
REDIS_PORT=6379
DB_NAME=callboard
DB_USER=callboard
DB_PASSWORD=callboard
DATABASE_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
# ruby-rails, not rails: it ships the `rails` command (ruby-railties) and the framework, which is all
# `rails new --skip-bundle --skip-webpack-install` needs; the `rails` metapackage adds webpacker's node
# packages, which cannot be installed beside a NodeSource node.
PACKAGES=(postgresql redis-server chromium git plantuml graphviz ruby-rails)
APT=(apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)

export DEBIAN_FRONTEND=noninteractive

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (apt-get and the postgres user need it)"; }

# apt-get update takes the lists lock, which DPkg::Lock::Timeout does not always cover: retry.
apt_update() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "${APT[@]}" update -qq && return 0
    log "apt-get update failed (another apt running?), retry $i in 15 s"
    sleep 15
  done
  die "apt-get update kept failing"
}

install_packages() {
  local need=() p
  for p in "${PACKAGES[@]}"; do installed "$p" || need+=("$p"); done
  # node and npm: Debian's packages, unless a node with its npm is already there (e.g. from NodeSource).
  command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  apt_update
  "${APT[@]}" install -y -qq "${need[@]}" >/dev/null
}

pg_version() {
  [ -d /etc/postgresql ] || [ -d /usr/lib/postgresql ] || return 1
  # The newest installed server (a cluster may not exist yet, so look at the binaries).
  ls /usr/lib/postgresql | sort -V | tail -1
}

redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_postgres() {
  local ver port i
  ver=$(pg_version) || die "PostgreSQL is not installed"
  pg_lsclusters -h | grep -q "^$ver main " || pg_createcluster "$ver" main >/dev/null
  port=$(pg_lsclusters -h | awk -v v="$ver" '$1 == v && $2 == "main" {print $3}')
  [ "$port" = "$PG_PORT" ] || die "cluster $ver/main listens on port $port, not $PG_PORT (another cluster holds it?)"
  # A second `pg_ctlcluster start` exits 2, so only start a stopped cluster.
  if ! pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
    log "starting PostgreSQL $ver/main"
    pg_ctlcluster "$ver" main start
  fi
  for i in $(seq 1 120); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    [ "$i" -eq 120 ] && die "PostgreSQL did not accept connections within 60 s"
    sleep 0.5
  done
  # ALTER every time: the role ends up with the documented password and rights whatever it had before.
  runuser -u postgres -- psql -q -X -p "$PG_PORT" -v ON_ERROR_STOP=1 -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
        CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD' CREATEDB;
      ELSE
        ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD' CREATEDB;
      END IF; END \$\$;"
  if ! runuser -u postgres -- psql -X -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
    log "creating database $DB_NAME"
    runuser -u postgres -- createdb -p "$PG_PORT" -O "$DB_USER" "$DB_NAME"
  fi
}

start_redis() {
  local i
  mkdir -p "$RUN_DIR"
  # A second `redis-server --daemonize yes` exits 0 but its child dies: only start when nothing answers.
  if ! redis_up; then
    log "starting Redis (pidfile and log in $RUN_DIR)"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
      --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log" --dir "$RUN_DIR"
    for i in $(seq 1 60); do
      redis_up && break
      [ "$i" -eq 60 ] && die "Redis did not answer within 30 s (see $RUN_DIR/redis.log)"
      sleep 0.5
    done
  fi
}

stop_all() {
  local ver i pid
  if command -v redis-cli >/dev/null && redis_up; then
    log "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    for i in $(seq 1 40); do redis_up || break; sleep 0.25; done
    if redis_up && [ -f "$RUN_DIR/redis.pid" ]; then
      pid=$(cat "$RUN_DIR/redis.pid")
      kill "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN_DIR/redis.pid"
  if ver=$(pg_version 2>/dev/null) && pg_lsclusters -h 2>/dev/null | grep -q "^$ver main "; then
    if pg_ctlcluster "$ver" main status >/dev/null 2>&1; then
      log "stopping PostgreSQL $ver/main"
      pg_ctlcluster "$ver" main stop -m fast
    fi
  fi
}

status() {
  local p rc=0 ver
  for p in "${PACKAGES[@]}"; do
    if installed "$p"; then
      printf '%-13s installed %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
    else
      printf '%-13s not installed\n' "$p"; rc=1
    fi
  done
  if ver=$(pg_version 2>/dev/null) && command -v pg_lsclusters >/dev/null; then
    pg_lsclusters
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
      echo "postgresql    accepting connections on 127.0.0.1:$PG_PORT"
    else
      echo "postgresql    not accepting connections on 127.0.0.1:$PG_PORT"; rc=1
    fi
  fi
  if command -v redis-cli >/dev/null && redis_up; then
    echo "redis         PONG on 127.0.0.1:$REDIS_PORT ($(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server \
      | tr -d '\r' | awk -F: '/^redis_version:/ {print "version " $2} /^process_id:/ {print "pid " $2}' | paste -sd' '))"
  else
    echo "redis         not answering on 127.0.0.1:$REDIS_PORT"; rc=1
  fi
  echo "DATABASE_URL=$DATABASE_URL"
  echo "REDIS_URL=$REDIS_URL"
  return $rc
}

case "${1:-start}" in
  start)
    need_root
    install_packages
    start_postgres
    start_redis
    log "PostgreSQL and Redis are running; export:"
    echo "export DATABASE_URL=$DATABASE_URL"
    echo "export REDIS_URL=$REDIS_URL"
    ;;
  stop)
    need_root
    stop_all
    ;;
  status)
    status
    ;;
  *)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
