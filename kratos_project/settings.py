"""Django settings, derived from the Kratos configuration (kratos_project.config).

The typed `Config` is the one source of truth, so a Kratos `kratos.yml` (plus Kratos-style
environment overrides) is all an operator writes. The exceptions are settings Kratos has no key
for, read from the environment: BREACHED_PASSWORDS_FILE, KRATOS_DEFAULT_PAGES, KRATOS_PG_PREPARE.
"""
from __future__ import annotations

from pathlib import Path

import environ

from kratos_project.config import get_config
from kratos_project.dsn import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent
KRATOS = get_config()

# Django's own signing key (admin console sessions, messages) comes from Kratos's secrets so an
# operator configures secrets once. Kratos's cookie secrets are the closest in purpose.
SECRET_KEY = (KRATOS.secrets_cookie or KRATOS.secrets_default)[0]
DEBUG = False
ALLOWED_HOSTS = ["*"]  # Kratos serves whatever Host it is reached on; base URLs come from config.

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "kratos_project",
    "identities",
    "sessions_app",
    "selfservice",
    "strategies",
    "courier",
]

MIDDLEWARE = [
    "kratos_project.surfaces.SurfaceMiddleware",
    "kratos_project.nul_guard.NulGuardMiddleware",
    "kratos_project.tenancy.NetworkMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "selfservice.csrf.CookieMiddleware",
    "kratos_project.errors.KratosErrorMiddleware",
]

ROOT_URLCONF = "kratos_project.urls_public"
APPEND_SLASH = False

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

WSGI_APPLICATION = "kratos_project.wsgi_public.application"

DATABASES = {"default": database_settings(KRATOS.dsn)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
# The default pages translate Kratos's UI texts by message id (selfservice/templatetags/kratos_pages.py);
# only they activate the browser's language, so API responses are never localised.
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/console/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"

# Kratos caps request bodies at 5 MB on both listeners; Django raises RequestDataTooBig past this,
# which the error handler turns into a 413 envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# A local breached-password list (strategies/password/policy.py) replaces the HIBP range API when
# set. Kratos's config has no key for one, so this one is ours, read from the environment.
BREACHED_PASSWORDS_FILE = environ.Env().str("KRATOS_BREACHED_PASSWORDS_FILE", default="")

# On PostgreSQL, whoami's two reads are prepared statements (sessions_app/reads.py). A prepared
# statement lives in one server session, which a pooler that hands each transaction another server
# connection breaks (PgBouncer's transaction pooling before 1.21, or with max_prepared_statements = 0:
# `prepared statement "_pg3_0" does not exist`). KRATOS_PG_PREPARE=0 turns them off behind such a pooler.
KRATOS_PG_PREPARE = environ.Env().bool("KRATOS_PG_PREPARE", default=True)

# The default self-service pages (`/ui/…` on the public port, selfservice/pages.py) are used for every
# flow whose `selfservice.flows.<flow>.ui_url` is not configured. Kratos has no key to switch them off,
# so KRATOS_DEFAULT_PAGES=0 unmounts them (flows then redirect to Kratos's ory.sh fallback URLs).
KRATOS_DEFAULT_PAGES = environ.Env().bool("KRATOS_DEFAULT_PAGES", default=True)

SESSION_COOKIE_NAME = "kratos_console_session"
SESSION_COOKIE_SECURE = not KRATOS.dev
CSRF_COOKIE_SECURE = not KRATOS.dev
CSRF_COOKIE_NAME = "kratos_console_csrftoken"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["kratos_project.rendering.KratosJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kratos_project.jsonbody.JSONParser"],
    "EXCEPTION_HANDLER": "kratos_project.errors.kratos_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "kratos_project.rendering.AlwaysJSONNegotiation",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "kratos": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
