#!/usr/bin/env bash
# The image's entrypoint: one image, one process per container, chosen by the first argument.
#
#   web            migrate (unless CALLBOARD_SKIP_MIGRATE=1), then gunicorn on 0.0.0.0:8000
#   worker         a Celery worker on the "callboard" queue
#   beat           the Celery beat scheduler: run exactly ONE per deployment
#   demo           migrate, load the demo organisation, create the admin user (one-shot)
#   manage ARGS    python manage.py ARGS
#   healthcheck [worker]
#                  exit 0 when this container's process is healthy (the image's HEALTHCHECK)
#   anything else  exec'd as given (e.g. bash)
#
# The web, worker and beat commands are the ones `python manage.py serve` (make run) starts; keep them alike.
set -euo pipefail

APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$APP_DIR"

export CALLBOARD_DATA_DIR="${CALLBOARD_DATA_DIR:-/data}"

migrate() {
  if [ "${CALLBOARD_SKIP_MIGRATE:-0}" = "1" ]; then
    echo "entrypoint: CALLBOARD_SKIP_MIGRATE=1, not migrating" >&2
  else
    python manage.py migrate --noinput
  fi
}

healthcheck_web() {
  # GET /healthz with a Host header Django accepts (the first non-wildcard entry of ALLOWED_HOSTS).
  python - "${CALLBOARD_HEALTHCHECK_PORT:-8000}" <<'PY'
import os
import sys
import urllib.request

hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",")]
host = next((h for h in hosts if h and "*" not in h), "localhost")
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/healthz", headers={"Host": host})
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:
    print(f"healthcheck: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

mode="${1:-web}"
[ $# -gt 0 ] && shift

case "$mode" in
  web)
    migrate
    exec gunicorn portal.wsgi:application --bind 0.0.0.0:8000 --workers "${WEB_CONCURRENCY:-3}" \
      --access-logfile - "$@"
    ;;
  worker)
    exec celery -A portal worker -l info --concurrency "${CELERY_CONCURRENCY:-2}" -Q callboard "$@"
    ;;
  beat)
    # Same file as settings.CELERY_BEAT_SCHEDULE_FILENAME; its folder is not created in Redis mode.
    mkdir -p "$CALLBOARD_DATA_DIR/celery"
    exec celery -A portal beat -l info --schedule "$CALLBOARD_DATA_DIR/celery/beat-schedule" "$@"
    ;;
  demo)
    python manage.py migrate --noinput
    python manage.py demo load
    exec python manage.py ensure_admin
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  healthcheck)
    if [ "${1:-web}" = "worker" ]; then
      # The default node name is celery@<hostname>; answer only for this container's worker.
      exec celery -A portal inspect ping --destination "celery@${HOSTNAME:-$(hostname)}" --timeout 10
    fi
    healthcheck_web
    ;;
  *)
    exec "$mode" "$@"
    ;;
esac
