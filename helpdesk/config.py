"""Configuration read from the environment when the application is created, never at import."""
import os
import secrets
from pathlib import Path

WEAK_SECRETS = {"", "dev", "secret", "changeme", "change-me", "helpdesk"}
MIN_SECRET_LENGTH = 32


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


def load_config(instance_path: str, env: dict[str, str] | None = None) -> dict:
    env = os.environ if env is None else env
    instance = Path(instance_path)
    production = env.get("HELPDESK_ENV", "development").lower() == "production"

    secret = env.get("SECRET_KEY", "")
    if production:
        if secret.lower() in WEAK_SECRETS or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HELPDESK_ENV=production needs SECRET_KEY set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
    elif not secret:
        secret = _instance_secret(instance)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'helpdesk.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    max_attachment = int(env.get("MAX_ATTACHMENT_BYTES", str(10 * 1024 * 1024)))
    return {
        "HELPDESK_ENV": "production" if production else "development",
        "SECRET_KEY": secret,
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
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000"),
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
