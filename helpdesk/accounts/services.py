import functools
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import ApiToken, User, UserSession, token_digest
from helpdesk.audit.services import record_audit
from helpdesk.errors import NotFound
from helpdesk.extensions import db


@functools.cache
def _unknown_user_hash() -> str:
    """Checked against when the e-mail is unknown, so timing does not reveal which accounts exist."""
    probe = User()
    probe.set_password(secrets.token_hex(16))
    return probe.password_hash


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None:
        User(password_hash=_unknown_user_hash()).check_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def start_session(user: User, *, now: datetime, user_agent: str = "") -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_digest(token), created_at=now,
                               user_agent=user_agent[:256]))
    user.session_token = token
    return token


def user_for_session(token: str) -> User | None:
    # Every signed-in request asks: the session and its user come in one query.
    row = db.session.scalar(
        sa.select(UserSession).where(UserSession.token_hash == token_digest(token))
        .options(joinedload(UserSession.user))
    )
    if row is None or not row.user.is_active:
        return None
    row.user.session_token = token
    return row.user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            sa.delete(UserSession).where(UserSession.token_hash == token_digest(token))
        )


def create_api_token(email: str, *, now: datetime) -> str:
    """A new API token for that user; only its digest is kept, so it is shown once."""
    user = find_user(email)
    if user is None:
        raise NotFound("No user with e-mail %(email)r.", email=email)
    token = "hd_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), prefix=token[:10],
                            created_at=now))
    record_audit(actor=None, now=now, entity="user", entity_id=user.email, action="api_token",
                 changes={"token_prefix": [None, token[:10]]})
    return token


def user_for_api_token(token: str) -> User | None:
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == token_digest(token),
                                  ApiToken.revoked_at.is_(None))
        .options(joinedload(ApiToken.user))
    )
    if row is None or not row.user.is_active:
        return None
    return row.user
