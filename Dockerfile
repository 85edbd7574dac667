# syntax=docker/dockerfile:1
# One image for every Callboard process: web (gunicorn), worker and beat (Celery), one-shot jobs.
# See docs/deploy.md. Build: docker build -t callboard .   Run: docker compose up
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    NO_MKDOCS_2_WARNING=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.base \
    CALLBOARD_DATA_DIR=/data

# git: GitPython shells out to it (catalog locations, scaffolder, techdocs sources); ca-certificates
# for https remotes; openssh-client for ssh remotes. psycopg[binary] and every other requirement come
# as manylinux wheels, so no compiler or libpq is needed. plantuml and graphviz: TechDocs diagrams
# (mkdocs-techdocs-core renders ```plantuml and graphviz blocks with the local binaries). ruby-rails: the
# scaffolder's fetch:rails runs `rails new` (offline, in a sandbox; docs/scaffolder.md). util-linux's
# unshare (already in the base image) gives TechDocs and rails new no network and a read-only file system
# where the container may create namespaces.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client plantuml graphviz ruby-rails \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 callboard \
 && useradd --system --uid 10001 --gid callboard --create-home --home-dir /home/callboard \
      --shell /usr/sbin/nologin callboard

WORKDIR /app
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root (read-only for the app user); only /data is writable. Static files are
# collected at build time into STATIC_ROOT (/app/staticfiles, inside the image, so an upgrade ships new
# assets); WhiteNoise serves them. A throwaway key: the real SECRET_KEY comes from the environment (or
# /data/secret_key) at run time. Settings create folders under /data while collecting, so /data is
# recreated empty afterwards.
COPY . /app
RUN chmod 0755 /app/docker/entrypoint.sh \
 && SECRET_KEY=collectstatic-build-only python manage.py collectstatic --noinput -v0 \
 && rm -rf /data \
 && mkdir -p /data \
 && chown callboard:callboard /data

USER callboard:callboard

# Shared by web, worker and beat: git caches, local repos, built docs, the generated secret key, and the
# SQLite file when DATABASE_URL is unset.
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/app/docker/entrypoint.sh", "healthcheck"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
