import hashlib
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpdesk.accounts.access import works_tickets
from helpdesk.accounts.passwords import hash_password, is_usable, verify_password
from helpdesk.accounts.roles import Role
from helpdesk.accounts.scopes import Scope
from helpdesk.clock import now_utc
from helpdesk.db import StrEnumSet, str_enum
from helpdesk.extensions import db


class OrganisationKind(StrEnum):
    CLIENT = "client"
    INTERNAL = "internal"


def token_digest(token: str) -> str:
    """Tokens are long random strings, so a fast digest is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, 16))
    address: Mapped[str] = mapped_column(sa.Text, default="")
    company_id: Mapped[str] = mapped_column(sa.String(64), default="")
    vat_number: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    # An archived client is kept for its tickets and credit notes, but its people no longer
    # sign in and it is offered for no new user or contract.
    archived_at: Mapped[datetime | None]

    users: Mapped[list["User"]] = relationship(back_populates="organisation")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Organisation {self.code}>"


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Paris")
    language: Mapped[str] = mapped_column(sa.String(8), default="fr")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Two-factor sign-in (accounts.two_factor): a secret without `totp_enabled_at` is an
    # enrolment not yet confirmed; the last time step accepted is kept so a code works once.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_counter: Mapped[int | None]

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    # Set when the user is loaded for a signed-in browser session (see accounts.sessions).
    session_token = None

    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'client' OR organisation_id IS NOT NULL", name="client_has_organisation"
        ),
    )

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        """False while an invited user has not chosen one."""
        return is_usable(self.password_hash)

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_ticket_staff(self) -> bool:
        return works_tickets(self)

    # Flask-Login protocol: the id is the session token, so signing out can revoke it server-side.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_account and not (self.organisation and self.organisation.is_archived)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(db.Model):
    """A signed-in browser session; deleting the row signs every copy of its cookie out."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    # Moved forward at most once a minute (see accounts.services.SEEN_EVERY): the idle limit
    # counts from here.
    last_seen_at: Mapped[datetime] = mapped_column(default=now_utc)
    user_agent: Mapped[str] = mapped_column(sa.String(256), default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")

    user: Mapped[User] = relationship()


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ApiToken(db.Model):
    """A secret its owner gives a program to use the API as them, within its scopes; only its
    digest is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(100))
    scopes: Mapped[frozenset[Scope]] = mapped_column(StrEnumSet(Scope, 64))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def state_at(self, now: datetime) -> TokenState:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return TokenState.EXPIRED
        return TokenState.ACTIVE

class Throttle(db.Model):
    """Failed attempts against one key (an account, a client address), shared by every worker
    and host: the counters are rows, moved by single UPDATE statements."""

    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(sa.String(320), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]
    locks: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]


class AccountMailKind(StrEnum):
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    ACCOUNT_LOCKED = "account_locked"
    INVITATION = "invitation"


class AccountMailState(StrEnum):
    PENDING = "pending"
    SENT = "sent"


class AccountMail(db.Model):
    """A mail about the account itself, in the outbox with the escalations: written in the
    transaction that decided it, worded in the recipient's language when sent, retried until
    the server accepts it."""

    __tablename__ = "account_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AccountMailKind] = mapped_column(str_enum(AccountMailKind, 32))
    created_at: Mapped[datetime]
    # A reset link's token until the mail is sent, then cleared: the outbox keeps no live key.
    secret: Mapped[str | None] = mapped_column(sa.Text)
    # When an account lock ends, to say it in the mail.
    until: Mapped[datetime | None]
    state: Mapped[AccountMailState] = mapped_column(str_enum(AccountMailState, 16),
                                                    default=AccountMailState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    user: Mapped[User] = relationship()

    __table_args__ = (sa.Index("ix_account_mails_outbox", "state", "next_attempt_at"),)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app; only its digest is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=now_utc)
    used_at: Mapped[datetime | None]
