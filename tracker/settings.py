"""One settings module; everything that differs between machines comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG")
LOCAL_SECRET_KEY = BASE_DIR / ".secret_key"  # written once by `make`, never committed
# A fixed development key is only acceptable when DEBUG is explicitly on.
SECRET_KEY = (
    os.environ.get("SECRET_KEY")
    or (LOCAL_SECRET_KEY.read_text().strip() if LOCAL_SECRET_KEY.exists() else "")
    or ("dev-insecure-key" if DEBUG else "")
)
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set (or run `make` once) when DEBUG is off.")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "tracker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compresses about tenfold. BREACH: every CSRF token Django renders is masked afresh
    # per response, and this middleware pads its output at random (Heal-The-Breach).
    "django.middleware.gzip.GZipMiddleware",
    # Before the session and the user are read (tracker/freshness.py).
    "tracker.middleware.DataVersionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tracker.middleware.ContentSecurityPolicyMiddleware",
    "tracker.middleware.SessionIdleTimeoutMiddleware",
    "tracker.middleware.PrivateCacheMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

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
                "tracker.context_processors.inbox",
            ],
        },
    }
]

# Widgets drawn in Python where Django's templates would draw the same markup slowly.
FORM_RENDERER = "tracker.renderers.QuickWidgetRenderer"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer works; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_SQLITE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "tracker.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): 5 wrong passwords for one user name from one address lock
# that pair out for 15 minutes; other people, and the same person elsewhere, are unaffected.
# Covers every login form, the admin's included. Unlock early: delete the attempt in the
# admin (Axes › Access attempts) or `manage.py axes_reset_username <name>`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a successful login clears the earlier failures
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the 15 minutes are not extended
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "tracker.middleware.client_ip"
AXES_VERBOSE = False
# Behind a reverse proxy every request comes from the proxy's address: set PROXY_COUNT to the
# number of proxies that append to X-Forwarded-For (nginx: 1), so the lockout is per client.
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if env_bool("TESTING"):
    # Tests hash and check many passwords (the login throttling tests, every user fixture);
    # the real hasher stays second so fixtures/demo.json's hashes still verify.
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
FORMAT_MODULE_PATH = ["tracker.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("TESTING")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # no script reads it: htmx sends the token from hx-headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS: HTTPS=1 turns on the redirect to https, secure cookies and HSTS (a year, subdomains
# included, preload allowed); each can be set on its own. TLS_PROXY=1 when a proxy in front
# ends TLS and sets X-Forwarded-Proto (without it the redirect would loop).
HTTPS = env_bool("HTTPS")
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", HTTPS)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600 if HTTPS else 0)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", HTTPS)
if env_bool("TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Sessions end after SESSION_IDLE_MINUTES without a request (tracker.middleware
# .SessionIdleTimeoutMiddleware); the stored session and the cookie live a little longer so
# the middleware, not a lost cookie, decides, and it saves the session once a minute at most.
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))
SESSION_ACTIVITY_SAVE_SECONDS = 60
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60 + SESSION_ACTIVITY_SAVE_SECONDS

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "督办台账 <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Pages stored per data version (tracker/freshness.py), per process: each gunicorn worker keeps
# its own, and a version read from the database on every request tells whether they are current.
# Keep it a per-process cache: a stored page holds its process's CSRF placeholder.
PAGE_CACHE = env_bool("PAGE_CACHE", True)
PAGE_CACHE_ALIAS = "pages"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    PAGE_CACHE_ALIAS: {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        # A 100-row ledger page is about 150 KB: at most about 45 MB a process.
        "OPTIONS": {"MAX_ENTRIES": 300},
    },
}

# Importer limits.
IMPORT_MAX_BYTES = 5 * 1024 * 1024

# Ledger behaviour.
DUE_SOON_DAYS = int(os.environ.get("DUE_SOON_DAYS", "7"))
LEDGER_PAGE_SIZE = 100

# Warning lights (tracker/lights.py): 蓝灯 when the deadline is DUE_SOON_DAYS away or less;
# 黄灯 when percent complete trails the share of elapsed time by more than this many points.
LIGHT_PACE_GAP = int(os.environ.get("LIGHT_PACE_GAP", "30"))

# 办结 evidence: what may be uploaded, and how much.
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
ATTACHMENTS_PER_REQUEST = 10

# Links in reminder mails.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Paper of the printed 台账 and 通报 exports (tracker.spreadsheets.PAPER_SIZES: A4 or A3).
LEDGER_PAPER = os.environ.get("LEDGER_PAPER", "A4")
