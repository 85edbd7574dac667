"""Callboard settings: every value comes from the environment (see docs/configuration.md).

Production is this module with real environment variables; portal/settings/test.py only overrides what
tests need. There is no separate "local" or "production" module to drift apart.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from kombu import Queue

from portal.auth.providers import build_providers
from portal.settings.env import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# An optional .env file beside manage.py; real environment variables win.
env.read_env(BASE_DIR / ".env")

# --- Where Callboard keeps its files -------------------------------------------------------------
DATA_DIR = Path(env.str("CALLBOARD_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "celery").mkdir(exist_ok=True)
GIT_CACHE_DIR = DATA_DIR / "git-cache"
LOCAL_REPOS_DIR = DATA_DIR / "repos"

# --- Core ----------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    # A laptop install needs no configuration: keep a generated key in the data dir.
    from portal.settings.secret import load_or_create_secret_key

    SECRET_KEY = load_or_create_secret_key(DATA_DIR / "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BASE_URL = env.str("CALLBOARD_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# SSO providers configured by environment (portal/auth/providers.py; docs/sso.md).
SOCIALACCOUNT_PROVIDERS, SSO_PROVIDER_APPS = build_providers(env)

INSTALLED_APPS = [
    # First, so its templates (login page, admin pages) win over allauth's and the admin's defaults.
    "portal",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    *SSO_PROVIDER_APPS,
    "plugins",
    "catalog",
    "scaffolder",
    "techdocs",
    "scorecards",
]

MIDDLEWARE = [
    "portal.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.AuditContextMiddleware",
    "portal.middleware.PortalLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "plugins.context_processors.navigation",
                "portal.auth.context.sign_in_options",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------
# SQLite in the data dir by default; PostgreSQL (psycopg 3) with DATABASE_URL=postgres://...
DATABASE_CONN_MAX_AGE = env.int("DATABASE_CONN_MAX_AGE", default=60)
# The few fixed statements run on nearly every request are prepared (portal/prepared.py).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'callboard.sqlite3'}")}
# Connections are kept between requests: on SQLite too, where opening one and running its pragmas on
# every request was most of a by-name read through gunicorn (6.6 ms at p50 against 1.3 ms).
DATABASES["default"]["CONN_MAX_AGE"] = DATABASE_CONN_MAX_AGE
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
    )
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compilation costs ~10 ms per query and pays off only for long analytical queries, not ours.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
        if DATABASE_PREPARED_STATEMENTS:  # only the statements portal/prepared.py asks for, never by count
            DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and background work -------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "portal.rediscache.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    # Embedded default: a real Celery worker on kombu's filesystem transport (docs/adr/0002).
    CELERY_QUEUE_DIR = DATA_DIR / "celery" / "queue"
    CELERY_QUEUE_DIR.mkdir(parents=True, exist_ok=True)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR),
        "data_folder_out": str(CELERY_QUEUE_DIR),
        "store_processed": False,
        "control_folder": str(DATA_DIR / "celery" / "control"),
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives in portal.JobRun, not a result backend
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Celery's Django fix-up closes the database connection before and after every task: a new PostgreSQL
# connection (and a cold backend) per task, most of a short task's time. The fix-up is told never to
# (a reuse count it never reaches); the worker treats each task as Django treats a request instead
# (portal/celerytask.py): the connection is kept DATABASE_CONN_MAX_AGE s, checked when a task starts
# (CONN_HEALTH_CHECKS) and dropped when broken.
CELERY_DB_REUSE_MAX = 2**62
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's prefork pool, made to survive a pool child killed while holding the job queue's lock.
CELERY_WORKER_POOL = "portal.workerpool:TaskPool"
CELERY_TASK_DEFAULT_QUEUE = "callboard"
CELERY_TASK_QUEUES = [Queue("callboard")]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celery" / "beat-schedule")

# Worker liveness and lost jobs (portal/jobs.py, docs/deploy.md "When a worker dies"). Beat sends a
# heartbeat task every WORKER_HEARTBEAT_INTERVAL s; /healthz and `serve` call the workers stuck when neither
# it nor any job has shown a sign of life for WORKER_STALE_AFTER s. A running job beats every
# JOB_HEARTBEAT_INTERVAL s; one silent for JOB_LOST_AFTER s is marked failed and sent again, at most
# JOB_MAX_ATTEMPTS times in all.
WORKER_HEARTBEAT_INTERVAL = env.int("CALLBOARD_WORKER_HEARTBEAT_INTERVAL", default=30)
WORKER_STALE_AFTER = env.int("CALLBOARD_WORKER_STALE_AFTER", default=180)
JOB_HEARTBEAT_INTERVAL = env.int("CALLBOARD_JOB_HEARTBEAT_INTERVAL", default=15)
JOB_LOST_AFTER = env.int("CALLBOARD_JOB_LOST_AFTER", default=120)
JOB_MAX_ATTEMPTS = env.int("CALLBOARD_JOB_MAX_ATTEMPTS", default=3)

CATALOG_REFRESH_INTERVAL = env.int("CATALOG_REFRESH_INTERVAL", default=300)
SCORECARDS_EVALUATE_INTERVAL = env.int("SCORECARDS_EVALUATE_INTERVAL", default=900)
# Re-score a location's entities right after each refresh that read new files (off in the test settings).
SCORECARDS_EVALUATE_ON_REFRESH = env.bool("SCORECARDS_EVALUATE_ON_REFRESH", default=True)
# Badges (/badges/scorecards/...) for anyone, signed in or not; otherwise only for entities anonymous visitors may
# read, or for people signed in who may read them.
SCORECARDS_PUBLIC_BADGES = env.bool("SCORECARDS_PUBLIC_BADGES", default=False)
# The longest an exemption may be asked for from the UI or the API (also its default length).
SCORECARDS_EXEMPTION_MAX_DAYS = env.int("SCORECARDS_EXEMPTION_MAX_DAYS", default=180)
# Notifications (docs/notifications.md): external delivery through apprise. Only these URL schemes may be
# configured; hosts that resolve to private addresses are refused unless listed in NOTIFICATIONS_PRIVATE_HOSTS.
NOTIFICATIONS_ALLOWED_SCHEMES = env.list("NOTIFICATIONS_ALLOWED_SCHEMES", default=[
    "json", "jsons", "form", "forms", "mailto", "mailtos", "slack", "msteams", "discord", "mmost", "mmosts",
    "rocket", "rockets", "matrix", "matrixs", "ntfy", "ntfys",
])
NOTIFICATIONS_PRIVATE_HOSTS = env.list("NOTIFICATIONS_PRIVATE_HOSTS", default=[])
# Each person's email: an apprise mailto(s):// URL of the SMTP server (the recipient is added); empty: no email.
NOTIFICATIONS_EMAIL_URL = env.str("NOTIFICATIONS_EMAIL_URL", default="")
NOTIFICATIONS_MAX_RETRIES = env.int("NOTIFICATIONS_MAX_RETRIES", default=5)
NOTIFICATIONS_RETRY_DELAY = env.int("NOTIFICATIONS_RETRY_DELAY", default=30)  # seconds, doubled at each retry
CELERY_BEAT_SCHEDULE = {
    "catalog.refresh_due_locations": {
        "task": "catalog.refresh_due_locations",
        "schedule": timedelta(seconds=max(10, CATALOG_REFRESH_INTERVAL // 5)),
    },
    "portal.worker_heartbeat": {
        "task": "portal.worker_heartbeat",
        "schedule": timedelta(seconds=WORKER_HEARTBEAT_INTERVAL),
    },
    "portal.sweep_lost_jobs": {
        "task": "portal.sweep_lost_jobs",
        "schedule": timedelta(seconds=max(5, JOB_LOST_AFTER // 4)),
    },
    # Scaffolder tasks whose worker died stay "processing" at most the hard time limit plus JOB_LOST_AFTER.
    "scaffolder.fail_stale_tasks": {"task": "scaffolder.fail_stale_tasks", "schedule": timedelta(seconds=60)},
    "scorecards.evaluate_all": {
        "task": "scorecards.evaluate_all",
        "schedule": timedelta(seconds=max(60, SCORECARDS_EVALUATE_INTERVAL)),
    },
    "scorecards.send_initiative_reminders": {
        "task": "scorecards.send_initiative_reminders", "schedule": timedelta(hours=24),
    },
}

# --- Auth ----------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "portal.auth.backends.PasswordBackend",
    "portal.auth.backends.AllauthPasswordBackend",
]
# Local (password) accounts. Off: the login page shows only the SSO buttons and passwords are refused,
# except for superusers when the break-glass switch is on (docs/sso.md).
LOCAL_LOGIN = env.bool("CALLBOARD_LOCAL_LOGIN", default=True)
BREAK_GLASS_LOGIN = env.bool("CALLBOARD_BREAK_GLASS_LOGIN", default=True)
SOCIALACCOUNT_ADAPTER = "portal.auth.adapters.SocialAccountAdapter"
# Everyone the IdP lets in gets an account (no lock-out); unmatched people are flagged for review.
SSO_AUTO_SIGNUP = env.bool("CALLBOARD_SSO_AUTO_SIGNUP", default=True)
SOCIALACCOUNT_AUTO_SIGNUP = True
# A verified IdP email signs in to the existing account with that email instead of asking to sign up.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = env.bool("CALLBOARD_SSO_LINK_BY_EMAIL", default=True)
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = SOCIALACCOUNT_EMAIL_AUTHENTICATION
SOCIALACCOUNT_QUERY_EMAIL = True
# Seconds per request when asking GitHub for teams / GitLab for groups at sign-in (portal/auth/teams.py).
SSO_TEAMS_TIMEOUT = env.float("CALLBOARD_SSO_TEAMS_TIMEOUT", default=5.0)
# Ordered ways to find a person's User entity in the catalog (catalog/identity.py).
IDENTITY_RESOLVERS = env.list("CALLBOARD_IDENTITY_RESOLVERS", default=["email", "annotation", "username"])
# Catalog annotations matched against a provider's login name, by provider ("github", "gitlab", ...).
IDENTITY_PROVIDER_ANNOTATIONS = {
    "github": env.str("CALLBOARD_GITHUB_ANNOTATION", default="github.com/user-login"),
    "gitlab": env.str("CALLBOARD_GITLAB_ANNOTATION", default="gitlab.com/user-login"),
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ALLOW_SIGNUP = env.bool("CALLBOARD_ALLOW_SIGNUP", default=False)
ACCOUNT_ADAPTER = "portal.auth.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False

# --- Security (docs/security.md) -----------------------------------------------------------------
# Served over HTTPS: cookies are Secure and browsers are told to use HTTPS only (HSTS).
HTTPS = env.bool("CALLBOARD_HTTPS", default=False)
BEHIND_TLS_PROXY = env.bool("CALLBOARD_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    # Trust the load balancer's X-Forwarded-Proto to tell Django the request was HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Client addresses (sign-in rate limits per IP, the audit log) come from the proxy's X-Forwarded-For entry.
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if BEHIND_TLS_PROXY else 0
# Sessions are read from the cache (Redis, or files when embedded) and written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_AGE = env.int("CALLBOARD_SESSION_AGE", default=14 * 24 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = HTTPS
# No script reads the CSRF cookie: pages (htmx, Swagger UI) take the token from the rendered page.
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("CALLBOARD_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("CALLBOARD_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy sent on every page (portal/middleware.py); empty turns it off.
CONTENT_SECURITY_POLICY = env.str(
    "CALLBOARD_CSP",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'",
)
# Failed sign-ins allowed per IP address and per account before allauth refuses more (allauth's rate syntax:
# amount/period/per, periods in s, m, h or d). The cache (Redis or the file cache) holds the counters.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("CALLBOARD_LOGIN_FAILED_LIMIT", default="10/m/ip,5/5m/key"),
    "login": env.str("CALLBOARD_LOGIN_LIMIT", default="30/m/ip"),
}

# --- Email ---------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="callboard@localhost")

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.PortalAccess"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Callboard API",
    "DESCRIPTION": "Native Callboard API. Backstage-compatible paths live under /api/catalog/.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Let anonymous visitors read the catalog (UI and API); writing always needs a login.
ANONYMOUS_READ = env.bool("CALLBOARD_ANONYMOUS_READ", default=False)
# The role every signed-in person has on every entity (a role slug, or "none"); see docs/permissions.md.
CALLBOARD_DEFAULT_ROLE = env.str("CALLBOARD_DEFAULT_ROLE", default="viewer").strip().lower()

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"  # in the image, not the data volume, so upgrades ship new assets
with contextlib.suppress(OSError):  # whitenoise warns about a missing folder even when finders serve files
    STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Published TechDocs sites, in Backstage's {namespace}/{kind}/{name}/ layout (docs/techdocs.md).
    "techdocs": {
        "BACKEND": env.str("TECHDOCS_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("TECHDOCS_STORAGE_OPTIONS", default={"location": str(DATA_DIR / "techdocs")}),
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Catalog ingestion ---------------------------------------------------------------------------
# Hosts Callboard may read descriptors from over the network (SSRF guard). file:// and local paths
# are governed by CATALOG_ALLOWED_PATHS instead.
CATALOG_ALLOWED_HOSTS = env.list("CATALOG_ALLOWED_HOSTS", default=["github.com", "gitlab.com"])
# Hosts whose browser URLs (…/blob/<ref>/<path>, …/-/blob/…) are read as GitHub or GitLab repositories
# (GitHub Enterprise and self-hosted GitLab included).
CATALOG_GITHUB_HOSTS = env.list("CATALOG_GITHUB_HOSTS", default=["github.com"])
CATALOG_GITLAB_HOSTS = env.list("CATALOG_GITLAB_HOSTS", default=["gitlab.com"])
# The scaffolder's publish:github / publish:gitlab (docs/scaffolder.md): per host of CATALOG_GITHUB_HOSTS or
# CATALOG_GITLAB_HOSTS, {"apiBaseUrl": …, "token": …}. Hosts in neither list are refused.
SCAFFOLDER_INTEGRATIONS = env.json("SCAFFOLDER_INTEGRATIONS", default={})
# publish:git's remotes beyond file:// (scaffolder/git_remotes.py): a list of URL prefixes, each a string or
# {"prefix": "https://git.example.com/platform/", "username": …, "token": … | "tokenEnv": "ENV_VAR"}.
SCAFFOLDER_GIT_REMOTES = env.json("SCAFFOLDER_GIT_REMOTES", default=[])
# fetch:rails (docs/scaffolder.md): rails new runs a template's Ruby in the sandbox (portal/sandbox.py) with
# these limits; ISOLATION (no network, read-only file system but its work dir) is required unless false.
SCAFFOLDER_RAILS_COMMAND = env.str("SCAFFOLDER_RAILS_COMMAND", default="rails")  # a name on PATH, or a path
SCAFFOLDER_RAILS_TIMEOUT = env.int("SCAFFOLDER_RAILS_TIMEOUT", default=300)  # seconds, wall clock and CPU
SCAFFOLDER_RAILS_MEMORY_MB = env.int("SCAFFOLDER_RAILS_MEMORY_MB", default=2048)  # address space
SCAFFOLDER_RAILS_ISOLATION = env.bool("SCAFFOLDER_RAILS_ISOLATION", default=True)
CATALOG_ALLOWED_PATHS = env.list("CATALOG_ALLOWED_PATHS", default=[str(DATA_DIR), str(BASE_DIR / "demo")])
CATALOG_ORPHAN_GRACE_DAYS = env.int("CATALOG_ORPHAN_GRACE_DAYS", default=7)
CATALOG_WEBHOOK_SECRET = env.str("CATALOG_WEBHOOK_SECRET", default="")
# A refresh with at least this many bytes of descriptors waiting to be processed starts a helper
# process that parses and validates them while the refresh writes the database (two cores at work;
# catalog/ingestion/offload.py). 0 turns the helper off.
CATALOG_PARSE_HELPER_MIN_BYTES = env.int("CATALOG_PARSE_HELPER_MIN_BYTES", default=1_048_576)
# EntityOverride fields that owners may set themselves; the others (verified owner, note) need an admin.
CATALOG_OWNER_OVERRIDE_FIELDS = env.list("CATALOG_OWNER_OVERRIDE_FIELDS", default=["deprecation_note", "extra_tags"])

# --- TechDocs (docs/techdocs.md) ----------------------------------------------------------------------
# local: the worker builds docs when their sources change; external: only sites published from CI are
# served; both: the worker builds, and a site published from CI wins over the worker's for that entity.
TECHDOCS_BUILDER = env.str("TECHDOCS_BUILDER", default="local").strip().lower()
# Check a location's docs for changes after each refresh that read new files (off in the test settings).
TECHDOCS_BUILD_ON_REFRESH = env.bool("TECHDOCS_BUILD_ON_REFRESH", default=True)
TECHDOCS_ALLOWED_PLUGINS = env.list(
    "TECHDOCS_ALLOWED_PLUGINS",
    default=["techdocs-core", "search", "material/search", "redirects", "group", "material/group"],
)
TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS = env.list(
    "TECHDOCS_ALLOWED_MARKDOWN_EXTENSIONS",
    default=[
        "abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables", "toc", "meta",
        "fenced_code", "codehilite", "sane_lists", "smarty", "nl2br", "wikilinks", "legacy_em", "legacy_attrs",
        "mdx_truly_sane_lists", "plantuml_markdown", "markdown_inline_graphviz",
        "pymdownx.arithmatex", "pymdownx.betterem", "pymdownx.blocks.admonition", "pymdownx.blocks.details",
        "pymdownx.blocks.tab", "pymdownx.caret", "pymdownx.critic", "pymdownx.details", "pymdownx.emoji",
        "pymdownx.escapeall", "pymdownx.extra", "pymdownx.highlight", "pymdownx.inlinehilite", "pymdownx.keys",
        "pymdownx.magiclink", "pymdownx.mark", "pymdownx.progressbar", "pymdownx.saneheaders",
        "pymdownx.smartsymbols", "pymdownx.snippets", "pymdownx.superfences", "pymdownx.tabbed",
        "pymdownx.tasklist", "pymdownx.tilde",
    ],
)  # fmt: skip
TECHDOCS_BUILD_TIMEOUT = env.int("TECHDOCS_BUILD_TIMEOUT", default=300)  # seconds, wall clock and CPU
TECHDOCS_BUILD_MEMORY_MB = env.int("TECHDOCS_BUILD_MEMORY_MB", default=2048)  # address space of the build
TECHDOCS_MAX_FILES = env.int("TECHDOCS_MAX_FILES", default=5000)  # files in a docs folder
TECHDOCS_MAX_SOURCE_BYTES = env.int("TECHDOCS_MAX_SOURCE_BYTES", default=100 * 1024 * 1024)
TECHDOCS_NETWORK_ISOLATION = env.bool("TECHDOCS_NETWORK_ISOLATION", default=True)
# Docs whose last change is this many days older than the repository's last commit are marked stale.
TECHDOCS_STALE_DAYS = env.int("TECHDOCS_STALE_DAYS", default=90)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
