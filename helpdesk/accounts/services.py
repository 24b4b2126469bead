import functools
import secrets
from collections.abc import Collection
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from helpdesk.accounts.models import (
    Organisation,
    OrganisationKind,
    Role,
    User,
    UserSession,
    token_digest,
)
from helpdesk.audit.services import Outcome, diff, record_audit
from helpdesk.extensions import db


@functools.cache
def _unknown_user_hash() -> str:
    """Checked against when the e-mail is unknown, so timing does not reveal which accounts exist."""
    probe = User()
    probe.set_password(secrets.token_hex(16))
    return probe.password_hash


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def find_organisation(code: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.code == code))


class OrganisationFields(TypedDict):
    name: str
    kind: OrganisationKind
    address: str
    company_id: str
    vat_number: str


def upsert_organisation(code: str, fields: OrganisationFields, *, given: Collection[str],
                        now: datetime, actor: User | None, action: str) -> Outcome:
    """Create organisation `code`, or set on it the `fields` named in `given` (it keeps the
    others). Audited when anything changed."""
    row = find_organisation(code)
    before: dict[str, Any] = {} if row is None else {name: getattr(row, name) for name in fields}
    after = {**before, **{name: value for name, value in fields.items()
                          if row is None or name in given}}
    changes = diff(before, after)
    if row is None:
        row = Organisation(code=code, created_at=now, **after)
        db.session.add(row)
    elif not changes:
        return Outcome.UNCHANGED
    else:
        for name, value in after.items():
            setattr(row, name, value)
    db.session.flush()
    record_audit(actor=actor, now=now, entity="organisation", entity_id=row.code, action=action,
                 changes=changes)
    return Outcome.UPDATED if before else Outcome.CREATED


class UserFields(TypedDict):
    name: str
    role: Role
    organisation: str | None  # its code
    timezone: str
    language: str
    active: bool


def _user_fields(user: User) -> UserFields:
    return {
        "name": user.name,
        "role": user.role,
        "organisation": user.organisation.code if user.organisation else None,
        "timezone": user.timezone,
        "language": user.language,
        "active": user.is_active_account,
    }


def upsert_user(email: str, fields: UserFields, *, given: Collection[str], password: str | None,
                now: datetime, actor: User | None, action: str) -> Outcome:
    """Create the user `email`, or set on it the `fields` named in `given` (it keeps the others)
    and `password` unless None. Audited when anything changed, the password never shown."""
    row = find_user(email)
    before: dict[str, Any] = {} if row is None else dict(_user_fields(row))
    after = {**before, **{name: value for name, value in fields.items()
                          if row is None or name in given}}
    changes = diff(before, after)
    if password is not None and (row is None or not row.check_password(password)):
        changes["password"] = [None, "(set)"] if row is None else ["(hidden)", "(changed)"]
    if not changes:
        return Outcome.UNCHANGED
    organisation = (None if after["organisation"] is None
                    else find_organisation(after["organisation"]))
    created = row is None
    if row is None:
        row = User(email=email, created_at=now)
    if password is not None and "password" in changes:
        row.set_password(password)
    row.name = after["name"]
    row.role = after["role"]
    row.organisation = organisation
    row.timezone = after["timezone"]
    row.language = after["language"]
    row.is_active_account = after["active"]
    db.session.add(row)
    db.session.flush()
    record_audit(actor=actor, now=now, entity="user", entity_id=row.email, action=action,
                 changes=changes)
    return Outcome.CREATED if created else Outcome.UPDATED


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
