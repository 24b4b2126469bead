"""Configuration read from the environment when the application is created, never at import."""
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.sansio.utils import host_is_trusted

ENVIRONMENTS = ("development", "production")
WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "helpdesk"}
MIN_SECRET_LENGTH = 32
# A random hex key of 32 or more characters shows 16 distinct ones all but certainly; a
# typed-in phrase or a keyboard run repeated to the length shows far fewer.
MIN_SECRET_DISTINCT = 12


class ConfigError(RuntimeError):
    pass


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path) -> str:
    """A secret generated once per installation, so development never runs on a constant key."""
    path = instance_path / "secret_key"
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _environment(value: str | None) -> str:
    """Exactly one of ENVIRONMENTS: a typo such as `prod` must not quietly mean development."""
    if value is None or value == "":
        return "development"
    if value not in ENVIRONMENTS:
        raise ConfigError(f"HELPDESK_ENV must be 'development' or 'production', not {value!r}.")
    return value


def _is_repeated(text: str) -> bool:
    """True for one block written at least twice over, the last copy perhaps cut short, e.g.
    'abcdabcdab': the text equals itself shifted by the block's length."""
    return any(text[shift:] == text[:-shift] for shift in range(1, len(text) // 2 + 1))


def _check_production_secret(secret: str) -> None:
    if (secret.lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH
            or len(set(secret)) < MIN_SECRET_DISTINCT or _is_repeated(secret)):
        raise ConfigError(
            f"HELPDESK_ENV=production needs SECRET_KEY set to a random value of at least "
            f"{MIN_SECRET_LENGTH} characters, with at least {MIN_SECRET_DISTINCT} different "
            f"characters and no block repeated (e.g. python -c 'import secrets; "
            f"print(secrets.token_hex(32))')")


def _trusted_hosts(value: str | None, *, production: bool) -> list[str] | None:
    """The host names the application answers for; None (any) only in development."""
    hosts = [host.strip() for host in (value or "").split(",") if host.strip()]
    if hosts:
        return hosts
    if production:
        raise ConfigError(
            "HELPDESK_ENV=production needs TRUSTED_HOSTS: the host names clients reach the "
            "application by, separated by commas (e.g. TRUSTED_HOSTS=helpdesk.example.com); "
            "a request for any other host is refused.")
    return None


def _proxy_count(value: str | None) -> int:
    try:
        count = int(value or "0")
    except ValueError:
        count = -1
    if count < 0:
        raise ConfigError(f"PROXY_COUNT must be the number of reverse proxies in front of the "
                          f"application (0 or more), not {value!r}.")
    return count


def load_config(instance_path: str, env: Mapping[str, str] | None = None) -> dict:
    env = os.environ if env is None else env
    instance = Path(instance_path)
    environment = _environment(env.get("HELPDESK_ENV"))
    production = environment == "production"

    secret = env.get("SECRET_KEY", "")
    if production:
        _check_production_secret(secret)
    elif not secret:
        secret = _instance_secret(instance)
    trusted_hosts = _trusted_hosts(env.get("TRUSTED_HOSTS"), production=production)
    base_url = env.get("BASE_URL", "http://127.0.0.1:5000")
    if trusted_hosts is not None and not host_is_trusted(urlsplit(base_url).netloc,
                                                         trusted_hosts):
        raise ConfigError(f"BASE_URL {base_url!r} names a host missing from TRUSTED_HOSTS: the "
                          f"links in mails would be refused.")

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'helpdesk.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    max_attachment = int(env.get("MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
    return {
        "HELPDESK_ENV": environment,
        "SECRET_KEY": secret,
        # Flask answers 400 to a request whose Host (or X-Forwarded-Host) is not listed.
        "TRUSTED_HOSTS": trusted_hosts,
        # How many reverse proxies stand in front: their X-Forwarded-* headers are believed.
        "PROXY_COUNT": _proxy_count(env.get("PROXY_COUNT")),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_ATTACHMENT_BYTES": max_attachment,
        # The request as a whole may carry a form around the file.
        "MAX_CONTENT_LENGTH": max_attachment + 1024 * 1024,
        "ATTACHMENT_DIR": env.get("ATTACHMENT_DIR") or str(instance / "attachments"),
        "BASE_URL": base_url,
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", "587")),
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), default=True),
        "MAIL_FROM": env.get("MAIL_FROM", "helpdesk@localhost"),
        "MAIL_DIR": env.get("MAIL_DIR") or str(instance / "mail"),
        "SWEEP_INTERVAL_SECONDS": int(env.get("SWEEP_INTERVAL_SECONDS", "30")),
        "QUEUE_REFRESH_SECONDS": int(env.get("QUEUE_REFRESH_SECONDS", "30")),
        "MAIL_INTERVAL_SECONDS": int(env.get("MAIL_INTERVAL_SECONDS", "10")),
        # /healthz fails when the scheduler has not swept for this many intervals.
        "SCHEDULER_SILENT_INTERVALS": 4,
        "API_PAGE_SIZE": 50,
        # A browser session ends after this long without a request, and this long after
        # signing in however busy; a reset link works this long.
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", str(12 * 60))),
        "SESSION_MAX_DAYS": int(env.get("SESSION_MAX_DAYS", "30")),
        "PASSWORD_RESET_MINUTES": int(env.get("PASSWORD_RESET_MINUTES", "30")),
        # An invitation's link to choose a first password works this long: a newcomer may
        # read the mail days after an administrator created the account.
        "INVITATION_DAYS": int(env.get("INVITATION_DAYS", "7")),
        # Printed on credit notes as the issuer; the issue date (and so the numbering year) is
        # the date in BILLING_TIMEZONE.
        "SELLER_NAME": env.get("SELLER_NAME", "Helpdesk Services SAS"),
        "SELLER_ADDRESS": env.get("SELLER_ADDRESS", "10 rue de l'Exemple, 49000 Angers, France"),
        "SELLER_COMPANY_ID": env.get("SELLER_COMPANY_ID", "RCS Angers 900 000 000"),
        "SELLER_VAT_NUMBER": env.get("SELLER_VAT_NUMBER", "FR00900000000"),
        "BILLING_TIMEZONE": env.get("BILLING_TIMEZONE", "Europe/Paris"),
        # Roles that must sign in with a second factor (accounts.two_factor). Production
        # protects the roles that hold the most by default; development asks for none, so the
        # demo signs in without an authenticator app. An empty value turns the rule off.
        "TWO_FACTOR_REQUIRED_ROLES": tuple(
            name.strip().lower()
            for name in env.get("TWO_FACTOR_REQUIRED_ROLES",
                                "admin,finance" if production else "").split(",")
            if name.strip()),
    }
