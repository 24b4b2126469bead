import hashlib
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from helpdesk.accounts.access import works_tickets
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

    users: Mapped[list["User"]] = relationship(back_populates="organisation")

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

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    # Set when the user is loaded for a signed-in browser session (see accounts.sessions).
    session_token = None

    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'client' OR organisation_id IS NOT NULL", name="client_has_organisation"
        ),
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

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
        return self.is_active_account

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
    user_agent: Mapped[str] = mapped_column(sa.String(256), default="")

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
