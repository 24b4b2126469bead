"""API tokens: made for a user with a name, scopes and an optional expiry, shown once (only a
digest is kept), used by the API, revoked by their owner or an admin."""
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import ApiToken, TokenState, User, token_digest
from helpdesk.accounts.scopes import Scope
from helpdesk.audit.services import record_audit
from helpdesk.errors import N_, Conflict, DomainError
from helpdesk.extensions import db
from helpdesk.text import refuse_bidi_controls

TOKEN_START = "hd_"
PREFIX_LENGTH = 10  # what lists show and the command line revokes by; too short to guess from
NAME_MAX = 100
# A farther expiry is a typing slip (year 9999); a token meant to last is made without one.
LONGEST_LIFE_DAYS = 5 * 365
# The name of tokens made on the command line, unless given one.
COMMAND_LINE = "command line"
# Recording every use would write on every API request; to the minute is enough to tell
# whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


def create_api_token(owner: User, *, name: str, scopes: Collection[Scope],
                     expires_at: datetime | None, actor: User | None, now: datetime) -> str:
    """A new token for `owner`; it is returned once and only its digest is kept. Audited, the
    token never shown."""
    name = name.strip()
    if not name:
        raise DomainError("Give the token a name.", field="name")
    if len(name) > NAME_MAX:
        raise DomainError("A token's name is at most %(max)d characters.", field="name",
                          max=NAME_MAX)
    refuse_bidi_controls(name, field="name", label=N_("Name"))
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    if expires_at is not None and expires_at <= now:
        raise DomainError("A token's expiry must be in the future.", field="expires_at")
    if expires_at is not None and expires_at > now + timedelta(days=LONGEST_LIFE_DAYS):
        raise DomainError("A token's expiry is at most %(days)d days away.", field="expires_at",
                          days=LONGEST_LIFE_DAYS)
    token = TOKEN_START + secrets.token_urlsafe(32)
    prefix = token[:PREFIX_LENGTH]
    db.session.add(ApiToken(user_id=owner.id, token_hash=token_digest(token), prefix=prefix,
                            name=name, scopes=frozenset(scopes), created_at=now,
                            expires_at=expires_at))
    record_audit(actor=actor, now=now, entity="user", entity_id=owner.email, action="api_token",
                 changes={"token_prefix": [None, prefix], "name": [None, name],
                          "scopes": [None, sorted(scopes)],
                          "expires_at": [None, expires_at and expires_at.isoformat()]})
    db.session.flush()
    return token


def use_api_token(token: str, *, now: datetime) -> ApiToken | None:
    """The token's row, its owner loaded and its use recorded (at most once a minute), or None
    when it is unknown, revoked or expired, or its owner is deactivated."""
    row: ApiToken | None = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token))
        .options(joinedload(ApiToken.user).joinedload(User.organisation))
    )
    if row is None or row.state_at(now) != TokenState.ACTIVE or not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now
    return row


def revoke_api_token(token: ApiToken, *, actor: User | None, now: datetime) -> None:
    """The token stops working at once. Audited, with who revoked it."""
    if token.revoked_at is not None:
        raise Conflict("Token %(prefix)s was already revoked.", prefix=token.prefix)
    token.revoked_at = now
    record_audit(actor=actor, now=now, entity="user", entity_id=token.user.email,
                 action="api_token_revoked",
                 changes={"token_prefix": [token.prefix, None], "name": [token.name, None]})
    db.session.flush()


def get_api_token(token_id: int) -> ApiToken | None:
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.id == token_id))


def tokens_of(owner: User) -> list[ApiToken]:
    """All of `owner`'s tokens, revoked and expired ones included, newest first."""
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == owner.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def active_tokens(*, now: datetime) -> list[ApiToken]:
    """Every user's tokens that still work, by owner then newest first."""
    return list(db.session.scalars(
        sa.select(ApiToken).join(ApiToken.user)
        .where(ApiToken.revoked_at.is_(None),
               sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
        .options(joinedload(ApiToken.user))
        .order_by(User.email, ApiToken.created_at.desc(), ApiToken.id.desc())))


def tokens_with_prefix(prefix: str) -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.prefix == prefix).order_by(ApiToken.id)))
