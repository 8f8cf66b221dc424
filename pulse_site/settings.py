"""Django settings for Market Pulse, all read from the environment.

Embedded defaults (no variables set): DEBUG on, SQLite next to the code, the in-memory channel
layer, the simulator feed. Scaled mode: set ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``
(channels-redis). With ``DEBUG`` off, ``SECRET_KEY`` is required. The README lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from pulse_site.env import env_bool, env_float, env_int, env_list, env_str, redis_hosts

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (generate one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(50))')"
        )
    # Development only: a fixed, clearly marked key so sessions survive restarts.
    SECRET_KEY = "django-insecure-market-pulse-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "pulse",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page requires a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pulse_site.urls"
ASGI_APPLICATION = "pulse_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(env_str("SQLITE_PATH") or BASE_DIR / "db.sqlite3"),
            # WAL lets the dashboard read while ingest writes events.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The pub/sub layer: one PUBLISH per group_send whatever the group size, which fits
    # one-to-many snapshot broadcast (see README, Operations).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": redis_hosts(REDIS_URL)},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")

# Production hardening, active whenever DEBUG is off. Behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER via the proxy and keep these on.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env_float("SECURE_HSTS_SECONDS", 31_536_000, minimum=0))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"pulse": {"level": LOG_LEVEL, "propagate": True}},
}

# Market Pulse behaviour. PULSE_ENGINE overrides engine defaults (see README, Metrics).
PULSE_ENGINE: dict[str, object] = {}
# Snapshot flushes: 4 a second in embedded mode; 1 a second when scaled, where the cost is
# per delivered message: at 1,000 pages it halves web CPU (docs/operations.md). Stress events
# are published as they fire, whatever the flush.
PULSE_FLUSH_INTERVAL = env_float("PULSE_FLUSH_INTERVAL", 1.0 if REDIS_URL else 0.25,
                                 minimum=0.05)
PULSE_CORR_INTERVAL = env_float("PULSE_CORR_INTERVAL", 2.0, minimum=0.5)
# Recording of the recent market (warm starts, replay --from-db), seconds kept.
PULSE_RECORD_RETENTION = env_float("PULSE_RECORD_RETENTION", 7200, minimum=60)
# Webhooks: allow private/loopback targets (tests, private networks), request timeout.
PULSE_WEBHOOK_ALLOW_PRIVATE = env_bool("PULSE_WEBHOOK_ALLOW_PRIVATE", False)
PULSE_WEBHOOK_TIMEOUT = env_float("PULSE_WEBHOOK_TIMEOUT", 10, minimum=0.5)
# Feed health and uptime to every page.
PULSE_HEALTH_INTERVAL = env_float("PULSE_HEALTH_INTERVAL", 5.0, minimum=0.5)
# /metrics of web processes: open to these networks (or to everyone if PULSE_METRICS_PUBLIC).
PULSE_METRICS_PUBLIC = env_bool("PULSE_METRICS_PUBLIC", False)
PULSE_METRICS_ALLOW = env_list("PULSE_METRICS_ALLOW", ["127.0.0.1/32", "::1/128"])
# Per-user quotas (staff and superusers are exempt): they bound what one user, or a stolen
# session or API token, can make ingest subscribe at the data providers.
PULSE_MAX_WATCHLISTS = env_int("PULSE_MAX_WATCHLISTS", 50, minimum=1)
PULSE_MAX_WATCHLIST_SYMBOLS = env_int("PULSE_MAX_WATCHLIST_SYMBOLS", 200, minimum=1)
PULSE_MAX_NEW_INSTRUMENTS_PER_DAY = env_int("PULSE_MAX_NEW_INSTRUMENTS_PER_DAY", 20, minimum=1)
PULSE_FEED_OPTIONS = {
    "eodhd": {
        "api_key": env_str("EODHD_API_KEY"),
        "base_url": env_str("EODHD_WS_URL", "wss://ws.eodhistoricaldata.com/ws"),
    },
    "binance": {"base_url": env_str("BINANCE_WS_URL", "wss://stream.binance.com:9443")},
    "coinbase": {"base_url": env_str("COINBASE_WS_URL", "wss://ws-feed.exchange.coinbase.com")},
    "simulator": {
        "seed": int(env_float("SIMULATOR_SEED", 0)),
        "stock_hours": env_str("SIMULATOR_STOCK_HOURS", "nyse"),
        "rate_scale": env_float("SIMULATOR_RATE_SCALE", 1.0, minimum=0.01),
        "history": env_float("SIMULATOR_HISTORY", 1800, minimum=0),
    },
}
