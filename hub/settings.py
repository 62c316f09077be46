"""Settings of the capture hub: environment variables only (12-factor).

`.env.example` lists every variable. Without any, the hub runs on a laptop with
embedded defaults: SQLite and a serverless Celery broker under HUB_DATA_DIR.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from hub.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_optional,
    env_path,
    env_str,
    env_url,
    parse_ae_addresses,
    parse_originals_policy,
    parse_pairs,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Core
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

HUB_DATA_DIR = env_path("HUB_DATA_DIR", BASE_DIR / "var")
HUB_PORT = env_int("HUB_PORT", 8000, minimum=1)
# The built capture app (`npm run build --prefix mobile_client/pwa`), served at /capture/.
HUB_PWA_DIR = env_path("HUB_PWA_DIR", BASE_DIR / "mobile_client" / "pwa" / "dist")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hub.accounts",
    "hub.audit",
    "hub.captures",
    "hub.wounds",
    "hub.emr",
    "hub.dimse",
    "hub.matching",
    "hub.delivery",
    "hub.pipeline",
    "hub.workbench",
    "hub.listener",
    "capture_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its 429.
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
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
            ]
        },
    }
]

# Database: SQLite under HUB_DATA_DIR unless DATABASE_URL names another.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{HUB_DATA_DIR / 'hub.sqlite3'}")
# Connections are kept for a minute and checked before reuse, in web and worker
# alike (the worker's tasks keep theirs: CELERY_DB_REUSE_MAX, hub/celery.py).
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The web process and the worker write the same file: WAL lets readers
    # go on while one writes, and IMMEDIATE avoids deadlocked upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a Celery worker in another process sees it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(DATABASES["default"]["NAME"]).with_suffix(".test.sqlite3"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("HUB_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HUB_DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads: large files spill to disk on the same filesystem as the originals,
# so storing one is a copy with hashing, never a second trip through memory.
FILE_UPLOAD_TEMP_DIR = HUB_DATA_DIR / "tmp"
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
HUB_MAX_UPLOAD_BYTES = env_int("HUB_MAX_UPLOAD_BYTES", 4 * 1024**3, minimum=1)
# Unfinished resumable (tus) uploads are removed this long after their last byte.
HUB_UPLOAD_EXPIRY_SECONDS = env_int("HUB_UPLOAD_EXPIRY_SECONDS", 24 * 3600, minimum=60)

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Capture hub API",
    "DESCRIPTION": "Takes clinical photos and video in, ties them to the patient, "
    "delivers them to the imaging archive as DICOM.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "capture_api.tus.schema.tus_head_and_options",
    ],
}

# Celery: a broker that needs no server unless CELERY_BROKER_URL names one.
HUB_QUEUE_PREFIX = env_str("HUB_QUEUE_PREFIX", "hub")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = HUB_DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu's, naming its files so that message priorities count (see the module).
    CELERY_BROKER_TRANSPORT = "hub.pipeline.broker:FilesystemTransport"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every connection around every task unless told
# to reuse them; hub/celery.py then closes only the unusable or too old ones.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_SOFT_TIME_LIMIT = env_int("HUB_TASK_SOFT_TIME_LIMIT", 1800, minimum=1)
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
HUB_QUEUE_CPU = f"{HUB_QUEUE_PREFIX}.cpu"
HUB_QUEUE_IO = f"{HUB_QUEUE_PREFIX}.io"
CELERY_TASK_DEFAULT_QUEUE = HUB_QUEUE_IO
# A capture's first step waits behind later steps (hub/pipeline/tasks.py says why).
# Redis and the filesystem broker take priority 0 (or none) first; RabbitMQ the
# highest first, none counting as 0, and only from queues declared with
# x-max-priority (Celery declares them so).
_FIRST_STEP: dict[str, int] = {"priority": 9}
_LATER_STEP: dict[str, int] = {}
if CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://")):
    CELERY_TASK_QUEUE_MAX_PRIORITY = 9
    _FIRST_STEP, _LATER_STEP = {}, {"priority": 9}
# CPU-heavy steps on their own queue; every other task (delivery, look-ups,
# notices, the sweep) waits on network I/O and takes the default one.
CELERY_TASK_ROUTES = {
    "hub.pipeline.tasks.inspect_capture": {"queue": HUB_QUEUE_CPU, **_FIRST_STEP},
    "hub.pipeline.tasks.encapsulate_capture": {"queue": HUB_QUEUE_CPU, **_LATER_STEP},
    "hub.pipeline.tasks.measure_capture": {"queue": HUB_QUEUE_CPU, **_LATER_STEP},
}
# Surviving faults (hub.pipeline.resume, hub.captures.leases, hub.pipeline.broker).
# Work whose message may be lost is enqueued again after this long without news.
HUB_RESUME_INTERVAL_SECONDS = env_float("HUB_RESUME_INTERVAL_SECONDS", 60.0, minimum=1.0)
# How often the sweep runs: it hands out due retries and work a crash left behind.
HUB_SWEEP_INTERVAL_SECONDS = env_float("HUB_SWEEP_INTERVAL_SECONDS", 5.0, minimum=0.5)
# A step's lease, renewed by a heartbeat while the step runs: a dead worker's
# step is taken again this long after its last heartbeat.
HUB_STEP_LEASE_SECONDS = env_int("HUB_STEP_LEASE_SECONDS", 120, minimum=3)
# Tries of one step (inspect, match, encapsulate) that crashed or were killed;
# past them the capture is `failed` with the last error.
HUB_STEP_MAX_ATTEMPTS = env_int("HUB_STEP_MAX_ATTEMPTS", 5, minimum=1)
# Files in originals/ that no capture references are removed after this long.
HUB_ORPHAN_AGE_SECONDS = env_int("HUB_ORPHAN_AGE_SECONDS", 3600, minimum=60)
# Retention (hub.captures.retention, docs/security.md), in days; 0 keeps forever.
# An archived capture's files go this long after its last destination confirmed it,
HUB_RETENTION_DAYS = env_int("HUB_RETENTION_DAYS", 30, minimum=0)
# and a rejected one's (the only copy: time to look into why) this long after rejection.
HUB_REJECTED_RETENTION_DAYS = env_int("HUB_REJECTED_RETENTION_DAYS", 90, minimum=0)
HUB_BROKER_VISIBILITY_TIMEOUT = env_int("HUB_BROKER_VISIBILITY_TIMEOUT", 600, minimum=30)
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport with its broker-restart crash fixed (see the module).
    CELERY_BROKER_TRANSPORT = "hub.pipeline.broker:Transport"
    # No message is held for later (retry times live in the database), so a
    # message stays unacknowledged only while its task runs; one redelivered
    # early finds its work claimed or done.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": HUB_BROKER_VISIBILITY_TIMEOUT}
# A worker never gives up on a broker that is down.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# A running step goes on when the broker goes: its lease, not its message, guards it.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE = {
    "resume-stalled-captures": {
        "task": "hub.pipeline.tasks.resume_stalled_captures",
        "schedule": HUB_SWEEP_INTERVAL_SECONDS,
    },
    "remove-orphan-originals": {
        "task": "hub.pipeline.tasks.remove_orphan_originals",
        "schedule": 900.0,
    },
    "purge-expired-captures": {
        "task": "hub.pipeline.tasks.purge_expired_captures",
        "schedule": 3600.0,
    },
}  # capture_api adds its own (see capture_api.apps)
CELERY_BEAT_SCHEDULE_FILENAME = str(HUB_DATA_DIR / "celerybeat-schedule")

# The archive (STOW-RS). Routing rules add more destinations later.
HUB_STOWRS_URL = env_url("HUB_STOWRS_URL")
HUB_STOWRS_USERNAME = env_optional("HUB_STOWRS_USERNAME")
HUB_STOWRS_PASSWORD = env_optional("HUB_STOWRS_PASSWORD")
HUB_STOWRS_TIMEOUT = env_float("HUB_STOWRS_TIMEOUT", 60.0, minimum=1.0)
if HUB_STOWRS_USERNAME and not HUB_STOWRS_PASSWORD:
    raise ImproperlyConfigured("HUB_STOWRS_USERNAME is set but HUB_STOWRS_PASSWORD is not")
# What is delivered per specialty: the DICOM object, the original with XDS
# metadata over MHD (ITI-65), or both. "dicom,dermatology:both,pocus:both".
HUB_ORIGINALS = env_str("HUB_ORIGINALS", "dicom")
HUB_ORIGINALS_BY_SPECIALTY = parse_originals_policy("HUB_ORIGINALS", HUB_ORIGINALS)
# An MHD Document Recipient (its FHIR base) for originals with XDS metadata.
HUB_MHD_URL = env_url("HUB_MHD_URL")
HUB_MHD_TOKEN = env_optional("HUB_MHD_TOKEN")
# Originals up to this size travel inside the ITI-65 bundle; larger ones are
# stored first as a Binary streamed from disk.
HUB_MHD_INLINE_MAX_BYTES = env_int("HUB_MHD_INLINE_MAX_BYTES", 8 * 1024 * 1024, minimum=0)
HUB_XDS_SOURCE_ID = env_optional("HUB_XDS_SOURCE_ID")
HUB_XDS_ASSIGNING_AUTHORITIES = parse_pairs(
    "HUB_XDS_ASSIGNING_AUTHORITIES", env_str("HUB_XDS_ASSIGNING_AUTHORITIES", "")
)
if HUB_MHD_URL and not HUB_XDS_SOURCE_ID:
    raise ImproperlyConfigured("HUB_MHD_URL is set but HUB_XDS_SOURCE_ID (the hub's OID) is not")

# Where the archive is an Orthanc: its REST API, to delete withdrawn instances.
HUB_ARCHIVE_ORTHANC_URL = env_url("HUB_ARCHIVE_ORTHANC_URL")
HUB_DELIVERY_MAX_ATTEMPTS = env_int("HUB_DELIVERY_MAX_ATTEMPTS", 10, minimum=1)
HUB_DELIVERY_RETRY_BASE_SECONDS = env_float("HUB_DELIVERY_RETRY_BASE_SECONDS", 30.0, minimum=0.1)
HUB_DELIVERY_RETRY_MAX_SECONDS = env_float("HUB_DELIVERY_RETRY_MAX_SECONDS", 3600.0, minimum=0.1)

# The EMR (FHIR R4) and the DICOM Modality Worklist, for matching captures
# to patients and orders. With neither, the context's demographics are used
# as given.
HUB_FHIR_URL = env_url("HUB_FHIR_URL")
# Without an EMR, a capture's patient needs a birth date besides its id
# (docs/capture-context.md, "Identity not verified against an EMR").
HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR = env_bool("HUB_REQUIRE_BIRTH_DATE_WITHOUT_EMR", True)
HUB_FHIR_MRN_SYSTEM = env_optional("HUB_FHIR_MRN_SYSTEM")
HUB_FHIR_TOKEN = env_optional("HUB_FHIR_TOKEN")
HUB_FHIR_USERNAME = env_optional("HUB_FHIR_USERNAME")
HUB_FHIR_PASSWORD = env_optional("HUB_FHIR_PASSWORD")
# SMART Backend Services (client_credentials with a signed JWT): the client id
# the EMR registered, its token endpoint, the hub's private key (PEM) and the
# kid of its public key there. Checked when the FHIR client is built.
HUB_FHIR_SMART_CLIENT_ID = env_optional("HUB_FHIR_SMART_CLIENT_ID")
HUB_FHIR_SMART_TOKEN_URL = env_optional("HUB_FHIR_SMART_TOKEN_URL")
HUB_FHIR_SMART_PRIVATE_KEY_PATH = env_optional("HUB_FHIR_SMART_PRIVATE_KEY_PATH")
HUB_FHIR_SMART_KEY_ID = env_optional("HUB_FHIR_SMART_KEY_ID")
HUB_FHIR_SMART_SCOPE = env_optional("HUB_FHIR_SMART_SCOPE")
HUB_FHIR_SMART_ALGORITHM = env_str("HUB_FHIR_SMART_ALGORITHM", "RS384")
HUB_FHIR_TIMEOUT = env_float("HUB_FHIR_TIMEOUT", 30.0, minimum=1.0)
HUB_FHIR_WRITEBACK = env_str("HUB_FHIR_WRITEBACK", "documentreference")
if HUB_FHIR_WRITEBACK not in ("off", "documentreference", "media"):
    raise ImproperlyConfigured(
        f"HUB_FHIR_WRITEBACK={HUB_FHIR_WRITEBACK!r} must be off, documentreference or media"
    )
HUB_MATCH_RETRY_BASE_SECONDS = env_float("HUB_MATCH_RETRY_BASE_SECONDS", 2.0, minimum=0.1)
HUB_MATCH_RETRY_MAX_SECONDS = env_float("HUB_MATCH_RETRY_MAX_SECONDS", 600.0, minimum=0.1)
# The notice after archiving waits like a delivery unless told otherwise.
HUB_WRITEBACK_MAX_ATTEMPTS = env_int(
    "HUB_WRITEBACK_MAX_ATTEMPTS", HUB_DELIVERY_MAX_ATTEMPTS, minimum=1
)
HUB_WRITEBACK_RETRY_BASE_SECONDS = env_float(
    "HUB_WRITEBACK_RETRY_BASE_SECONDS", HUB_DELIVERY_RETRY_BASE_SECONDS, minimum=0.1
)
HUB_WRITEBACK_RETRY_MAX_SECONDS = env_float(
    "HUB_WRITEBACK_RETRY_MAX_SECONDS", HUB_DELIVERY_RETRY_MAX_SECONDS, minimum=0.1
)
# Within one look-up: extra attempts after a transient failure, and their waits.
HUB_FHIR_RETRIES = env_int("HUB_FHIR_RETRIES", 3, minimum=0)
HUB_FHIR_RETRY_BASE_SECONDS = env_float("HUB_FHIR_RETRY_BASE_SECONDS", 0.5, minimum=0.01)
HUB_FHIR_RETRY_MAX_SECONDS = env_float("HUB_FHIR_RETRY_MAX_SECONDS", 8.0, minimum=0.01)
HUB_MWL_HOST = env_optional("HUB_MWL_HOST")
HUB_MWL_PORT = env_int("HUB_MWL_PORT", 104, minimum=1)
HUB_MWL_AET = env_optional("HUB_MWL_AET")
HUB_MWL_TIMEOUT = env_float("HUB_MWL_TIMEOUT", 10.0, minimum=0.1)
# A device capture matches worklist entries scheduled this close to its capture time.
HUB_MWL_WINDOW_MINUTES = env_int("HUB_MWL_WINDOW_MINUTES", 120, minimum=1)
HUB_AE_TITLE = env_str("HUB_AE_TITLE", "CAPTUREHUB")
# The hub's DICOM listener (hub.listener, docs/dimse.md): a C-STORE SCP for
# devices, and where archives send their Storage Commitment reports. Off while
# HUB_DICOM_PORT is unset. Only the devices listed (AET@host) may store; the
# archives of C-STORE destinations with Storage Commitment may only report.
HUB_DICOM_PORT = env_int("HUB_DICOM_PORT", 0, minimum=0)
HUB_DICOM_BIND = env_str("HUB_DICOM_BIND", "0.0.0.0")  # devices call from the network
HUB_DICOM_CALLERS = parse_ae_addresses("HUB_DICOM_CALLERS", env_str("HUB_DICOM_CALLERS", ""))
HUB_DICOM_TIMEOUT = env_float("HUB_DICOM_TIMEOUT", 60.0, minimum=1.0)
HUB_DICOM_MAX_ASSOCIATIONS = env_int("HUB_DICOM_MAX_ASSOCIATIONS", 10, minimum=1)
# The listener over TLS (PS3.15 B.1): its certificate and key (PEM); with a CA
# bundle, callers must also present a certificate it signed.
HUB_DICOM_TLS_CERT = env_optional("HUB_DICOM_TLS_CERT")
HUB_DICOM_TLS_KEY = env_optional("HUB_DICOM_TLS_KEY")
HUB_DICOM_TLS_CA = env_optional("HUB_DICOM_TLS_CA")
if bool(HUB_DICOM_TLS_CERT) != bool(HUB_DICOM_TLS_KEY) or (
    HUB_DICOM_TLS_CA and not HUB_DICOM_TLS_CERT
):
    raise ImproperlyConfigured(
        "HUB_DICOM_TLS_CERT and HUB_DICOM_TLS_KEY go together (HUB_DICOM_TLS_CA needs both)"
    )
# How long a delivery with Storage Commitment waits for the archive's report
# before it is sent again (a try like any other, bounded by HUB_DELIVERY_MAX_ATTEMPTS).
HUB_COMMITMENT_TIMEOUT_SECONDS = env_float("HUB_COMMITMENT_TIMEOUT_SECONDS", 600.0, minimum=1.0)
HUB_VIEWER_URL = env_url("HUB_VIEWER_URL")

# How the hub names itself in the objects it makes (Contributing Equipment).
HUB_STATION_NAME = env_str("HUB_STATION_NAME", "CAPTUREHUB")
# The printed side of the wound calibration marker's black square, in mm
# (docs/wound-measurement.md); wound and burn photos are measured with it.
HUB_MARKER_MM = env_float("HUB_MARKER_MM", 20.0, minimum=1.0)

# Identity and access (hub.accounts, capture_api.auth; docs/security.md).
# API tokens expire: a person's sign-in after HUB_TOKEN_TTL_HOURS, an enrolled
# device's after HUB_DEVICE_TOKEN_TTL_DAYS; keys are stored as SHA-512 digests.
KNOX_TOKEN_MODEL = "accounts.HubToken"
HUB_TOKEN_TTL_HOURS = env_int("HUB_TOKEN_TTL_HOURS", 12, minimum=1)
HUB_DEVICE_TOKEN_TTL_DAYS = env_int("HUB_DEVICE_TOKEN_TTL_DAYS", 90, minimum=1)
REST_KNOX = {"TOKEN_MODEL": KNOX_TOKEN_MODEL, "AUTO_REFRESH": False}
# knox's own migrations make its unswapped table, which nothing would use or flush.
MIGRATION_MODULES = {"knox": None}
# A device's one-time enrollment code is valid this long.
HUB_ENROLLMENT_CODE_MINUTES = env_int("HUB_ENROLLMENT_CODE_MINUTES", 10, minimum=1)
# Sign-in lockout (django-axes): this many failures of one user name lock it
# out of the token endpoint and the admin for HUB_LOGIN_LOCKOUT_MINUTES, the
# right password included.
HUB_LOGIN_FAILURE_LIMIT = env_int("HUB_LOGIN_FAILURE_LIMIT", 5, minimum=1)
HUB_LOGIN_LOCKOUT_MINUTES = env_int("HUB_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "hub.accounts.oidc.HubOidcBackend",  # answers no one unless HUB_OIDC_CLIENT_ID is set
]
# Optional single sign-on for staff (OpenID Connect; hub.accounts.oidc,
# docs/security.md), off unless HUB_OIDC_CLIENT_ID is set. The provider's
# HUB_OIDC_ROLES_CLAIM values map to a hub role by HUB_OIDC_ROLE_MAP
# ("hub-admins=admin,imaging-it=operator"); a user with none gets no access.
HUB_OIDC_CLIENT_ID = env_optional("HUB_OIDC_CLIENT_ID")
HUB_OIDC_CLIENT_SECRET = env_optional("HUB_OIDC_CLIENT_SECRET")
HUB_OIDC_AUTHORIZATION_URL = env_url("HUB_OIDC_AUTHORIZATION_URL")
HUB_OIDC_TOKEN_URL = env_url("HUB_OIDC_TOKEN_URL")
HUB_OIDC_USERINFO_URL = env_url("HUB_OIDC_USERINFO_URL")
HUB_OIDC_JWKS_URL = env_url("HUB_OIDC_JWKS_URL")
HUB_OIDC_SIGN_ALGO = env_str("HUB_OIDC_SIGN_ALGO", "RS256")
HUB_OIDC_SCOPES = env_str("HUB_OIDC_SCOPES", "openid profile")
HUB_OIDC_USERNAME_CLAIM = env_str("HUB_OIDC_USERNAME_CLAIM", "sub")
HUB_OIDC_ROLES_CLAIM = env_str("HUB_OIDC_ROLES_CLAIM", "roles")
HUB_OIDC_ROLE_MAP = parse_pairs("HUB_OIDC_ROLE_MAP", env_str("HUB_OIDC_ROLE_MAP", ""))
if HUB_OIDC_CLIENT_ID:
    _oidc_missing = [
        name
        for name in (
            "HUB_OIDC_CLIENT_SECRET",
            "HUB_OIDC_AUTHORIZATION_URL",
            "HUB_OIDC_TOKEN_URL",
            "HUB_OIDC_USERINFO_URL",
            "HUB_OIDC_JWKS_URL",
            "HUB_OIDC_ROLE_MAP",
        )
        if not globals()[name]
    ]
    if _oidc_missing:
        raise ImproperlyConfigured(f"HUB_OIDC_CLIENT_ID is set but {', '.join(_oidc_missing)} not")
if set(HUB_OIDC_ROLE_MAP.values()) - {"operator", "admin"}:
    raise ImproperlyConfigured("HUB_OIDC_ROLE_MAP maps only to the staff roles operator and admin")
AXES_FAILURE_LIMIT = HUB_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=HUB_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Per address, the sign-in throttle below limits the rate instead: a lockout by
# address would lock a whole ward out behind one NAT.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "hub.accounts.sign_in.lockout_response"
# Request rates (DRF throttles, per user, or per address before sign-in): 429 with Retry-After.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "sign-in": env_str("HUB_SIGN_IN_RATE", "30/min"),
    "enroll": env_str("HUB_ENROLL_RATE", "10/min"),
    "lookup": env_str("HUB_LOOKUP_RATE", "120/min"),
}

# Production over HTTPS (docs/security.md): with HUB_PUBLIC_URL=https://..., the
# hub redirects to HTTPS, sends HSTS, and keeps its cookies secure. Behind a
# TLS-terminating proxy, HUB_PROXY_SSL_HEADER names the header that proxy sets
# (X-Forwarded-Proto), and the proxy must strip it from clients' requests.
HUB_PUBLIC_URL = env_url("HUB_PUBLIC_URL")
HUB_HTTPS = bool(HUB_PUBLIC_URL and HUB_PUBLIC_URL.startswith("https://"))
HUB_PROXY_SSL_HEADER = env_optional("HUB_PROXY_SSL_HEADER")
if HUB_PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + HUB_PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
if HUB_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("HUB_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HUB_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HUB_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HUB_HSTS_PRELOAD", True)
    CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, HUB_PUBLIC_URL]
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
# The API speaks JSON only: no browsable API pages.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
# CSP on every page (django-csp); the capture app's own, stricter <meta> policy applies too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'wasm-unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # the admin's style attributes
        "img-src": ["'self'", "blob:", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Uploads are refused (507) while they would leave less than this free on HUB_DATA_DIR's disk.
HUB_MIN_FREE_BYTES = env_int("HUB_MIN_FREE_BYTES", 1024**3, minimum=0)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["captures"] = env_str("HUB_CAPTURES_RATE", "600/min")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HUB_LOG_LEVEL", "INFO")},
    # urllib3's DEBUG lines hold whole request URLs, a FHIR search's MRN among them.
    "loggers": {"urllib3": {"level": "WARNING"}},
}

# Data at rest: everything the hub creates (the SQLite database, originals,
# DICOM, uploads) is its user's alone, 0600 files in 0700 folders.
os.umask(0o077)
for _folder in (
    HUB_DATA_DIR,
    FILE_UPLOAD_TEMP_DIR,
    STATIC_ROOT,
    HUB_DATA_DIR / "broker" / "queue",
    HUB_DATA_DIR / "broker" / "processed",
    HUB_DATA_DIR / "broker" / "control",
):
    _folder.mkdir(parents=True, exist_ok=True)
