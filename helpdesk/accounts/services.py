import functools
import hashlib
import math
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import joinedload

from helpdesk.accounts import throttle
from helpdesk.accounts.models import (
    AccountMail,
    AccountMailKind,
    ApiToken,
    Organisation,
    OrganisationKind,
    Role,
    User,
    UserSession,
    token_digest,
)
from helpdesk.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    is_usable,
    needs_rehash,
    unusable_password,
)
from helpdesk.audit.services import Outcome, diff, record_audit
from helpdesk.errors import Conflict, DomainError, NotFound
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


def archive_organisation(organisation: Organisation, *, now: datetime,
                         actor: User | None) -> None:
    """A client that left: kept with its tickets and credit notes, but its people are signed
    out and sign in no more (`User.is_active`), and it is offered for nothing new."""
    if organisation.kind == OrganisationKind.INTERNAL:
        raise DomainError("The provider's own organisation cannot be archived.")
    if organisation.is_archived:
        raise Conflict("%(code)s is already archived.", code=organisation.code)
    organisation.archived_at = now
    for user in organisation.users:
        revoke_access(user, now=now)
    db.session.flush()
    record_audit(actor=actor, now=now, entity="organisation", entity_id=organisation.code,
                 action="archive", changes=diff({"archived_at": None}, {"archived_at": now}))


def restore_organisation(organisation: Organisation, *, now: datetime,
                         actor: User | None) -> None:
    """Undo an archive: its active users may sign in again."""
    if not organisation.is_archived:
        raise Conflict("%(code)s is not archived.", code=organisation.code)
    changes = diff({"archived_at": organisation.archived_at}, {"archived_at": None})
    organisation.archived_at = None
    db.session.flush()
    record_audit(actor=actor, now=now, entity="organisation", entity_id=organisation.code,
                 action="restore", changes=changes)


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
    and `password` unless None. A user created without a password cannot sign in until they
    choose one (password reset). Audited when anything changed, the password never shown."""
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
        if password is None:
            # A password nobody knows: the person chooses theirs through the reset link.
            row.set_password(secrets.token_urlsafe(32))
    if password is not None and "password" in changes:
        row.set_password(password)
    elif created:
        # Until its owner chooses one through an invitation (`invite_user`).
        row.password_hash = unusable_password()
    row.name = after["name"]
    row.role = after["role"]
    row.organisation = organisation
    row.timezone = after["timezone"]
    row.language = after["language"]
    row.is_active_account = after["active"]
    db.session.add(row)
    db.session.flush()
    if not created and {"password", "role", "active"} & changes.keys():
        # Whoever held the account's sessions and tokens did so under the old terms.
        revoke_access(row, now=now)
    record_audit(actor=actor, now=now, entity="user", entity_id=row.email, action=action,
                 changes=changes)
    return Outcome.CREATED if created else Outcome.UPDATED


def update_user(user: User, fields: UserFields, *, now: datetime, actor: User) -> Outcome:
    """An administrator's change to someone's account; their own role and activity stay, so
    that nobody locks the administration out by mistake."""
    if user.id == actor.id and (fields["role"] != user.role or not fields["active"]):
        raise DomainError("You cannot change your own role or deactivate yourself: ask "
                          "another administrator.")
    return upsert_user(user.email, fields, given=fields.keys(), password=None, now=now,
                       actor=actor, action="update")


def set_user_active(user: User, active: bool, *, now: datetime, actor: User) -> Outcome:
    """Deactivate (every session and token ends) or reactivate an account."""
    return update_user(user, {**_user_fields(user), "active": active}, now=now, actor=actor)


class TooManyAttempts(DomainError):
    """Attempts refused unheard until `until` (pages say when, the API sends Retry-After)."""

    status_code = 429

    def __init__(self, until: datetime, *, now: datetime) -> None:
        self.until = until
        self.seconds = max(1, math.ceil((until - now).total_seconds()))
        super().__init__("Too many attempts. Try again in %(seconds)s seconds.",
                         seconds=self.seconds)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta  # signed out after this long without a request
    absolute: timedelta  # signed out this long after signing in, however busy


# The session's last request is written at most this often, not on every page.
SEEN_EVERY = timedelta(minutes=1)


def authenticate(email: str, password: str, *, now: datetime, address: str = "") -> User | None:
    """The user these credentials sign in, or None; throttled per account and per address.

    The caller commits in both cases: a failure is counted even though nobody signs in."""
    refuse_if_throttled(email, address=address, now=now)
    user = find_user(email)
    if user is None:
        User(password_hash=_unknown_user_hash()).check_password(password)
    elif user.check_password(password) and user.is_active:
        throttle.forget(throttle.account_key(email))
        if needs_rehash(user.password_hash):
            user.set_password(password)
        return user
    record_failure(user, email, address=address, now=now)
    return None


def refuse_if_throttled(email: str, *, address: str, now: datetime) -> None:
    """Raise TooManyAttempts while the account or the address must wait."""
    keys = [(throttle.account_key(email), throttle.ACCOUNT),
            (throttle.address_key(address), throttle.ADDRESS)]
    until = throttle.refused_until(keys, now=now)
    if until is not None:
        raise TooManyAttempts(until, now=now)


def record_failure(user: User | None, email: str, *, address: str, now: datetime) -> None:
    """A wrong password or second factor: counted against the account and the address, and
    the owner is told when their account locks."""
    locked_until = throttle.fail(throttle.account_key(email), throttle.ACCOUNT, now=now)
    throttle.fail(throttle.address_key(address), throttle.ADDRESS, now=now)
    if locked_until is not None and user is not None and user.is_active:
        queue_account_mail(user, AccountMailKind.ACCOUNT_LOCKED, now=now, until=locked_until)


def queue_account_mail(user: User, kind: AccountMailKind, *, now: datetime,
                       secret: str | None = None, until: datetime | None = None) -> None:
    db.session.add(AccountMail(user_id=user.id, kind=kind, created_at=now, secret=secret,
                               until=until, next_attempt_at=now))


def start_session(user: User, *, now: datetime, user_agent: str = "", address: str = "") -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_digest(token), created_at=now,
                               last_seen_at=now, user_agent=user_agent[:256],
                               address=(address or "")[:64]))
    user.session_token = token
    return token


def user_for_session(token: str, *, now: datetime, limits: SessionLimits) -> User | None:
    """The user of a live session; a session past its idle or absolute limit is ended."""
    # Every signed-in request asks: the session and its user come in one query.
    row = db.session.scalar(
        sa.select(UserSession).where(UserSession.token_hash == token_digest(token))
        .options(joinedload(UserSession.user).joinedload(User.organisation))
    )
    if row is None or not row.user.is_active:
        return None
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.absolute:
        db.session.delete(row)
        db.session.commit()
        return None
    if now - row.last_seen_at >= SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    row.user.session_token = token
    return row.user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            sa.delete(UserSession).where(UserSession.token_hash == token_digest(token))
        )


def sessions_of(user: User) -> list[UserSession]:
    return list(db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                   .order_by(UserSession.last_seen_at.desc(), UserSession.id)))


def end_other_session(user: User, session_id: int) -> None:
    """Sign out one of the user's own sessions; another user's is no session of theirs."""
    ended = db.session.execute(sa.delete(UserSession).where(
        UserSession.id == session_id, UserSession.user_id == user.id))
    if not ended.rowcount:
        raise NotFound("This session has already ended.")


def end_every_session(user: User) -> None:
    """Sign the user out of every browser, at once and for every host: a session is a row,
    checked on each request."""
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id)
                       .execution_options(synchronize_session=False))


def revoke_access(user: User, *, now: datetime) -> None:
    """End every session of the user and revoke every API token."""
    end_every_session(user)
    db.session.execute(sa.update(ApiToken)
                       .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))


def check_new_password(password: str, *, email: str) -> None:
    if len(password) < MIN_LENGTH:
        raise DomainError("The new password needs at least %(count)s characters.",
                          field="new_password", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        raise DomainError("The new password may have at most %(count)s characters.",
                          field="new_password", count=MAX_LENGTH)
    if password.strip().lower() == email.strip().lower():
        raise DomainError("The new password cannot be your e-mail address.",
                          field="new_password")


def set_new_password(user: User, password: str, *, now: datetime, actor: User | None,
                     action: str) -> None:
    """Change the password; every session and token of the user ends with the old one. The
    owner is told by mail, unless it is the first they choose (after an invitation)."""
    check_new_password(password, email=user.email)
    first = not is_usable(user.password_hash)
    user.set_password(password)
    revoke_access(user, now=now)
    throttle.forget(throttle.account_key(user.email))
    if not first:
        queue_account_mail(user, AccountMailKind.PASSWORD_CHANGED, now=now)
    record_audit(actor=actor, now=now, entity="user", entity_id=user.email, action=action,
                 changes={"password": ["(none)" if first else "(hidden)", "(changed)"]})


def change_password(user: User, current: str, new: str, *, now: datetime) -> None:
    if not user.check_password(current):
        raise DomainError("The current password is wrong.", field="current_password")
    set_new_password(user, new, now=now, actor=user, action="password_changed")


RESET_SALT = "helpdesk.password-reset"
INVITATION_SALT = "helpdesk.invitation"


def _link_serializer(secret_key: str, *, now: datetime, salt: str) -> URLSafeTimedSerializer:
    """Signs and reads mailed links on the application's clock, not the machine's; the salt
    keeps a reset link from passing for an invitation and the other way round."""

    class SignedAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp())

    return URLSafeTimedSerializer(secret_key, salt=salt, signer=SignedAt)


def _password_fingerprint(user: User) -> str:
    """Changes with the password, so a link works once and dies with the old password."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _signed_link(user: User, *, now: datetime, secret_key: str, salt: str) -> str:
    return _link_serializer(secret_key, now=now, salt=salt).dumps(
        {"user": user.id, "password": _password_fingerprint(user)})


class _Refused(StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"
    USED = "used"


def _user_for_link(token: str, *, now: datetime, secret_key: str, salt: str,
                   max_age: timedelta) -> User | _Refused:
    try:
        claims = _link_serializer(secret_key, now=now, salt=salt).loads(
            token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        return _Refused.EXPIRED
    except BadSignature:
        return _Refused.INVALID
    user = db.session.get(User, claims.get("user")) if isinstance(claims, dict) else None
    if (user is None or not user.is_active
            or claims.get("password") != _password_fingerprint(user)):
        return _Refused.USED
    return user


def request_password_reset(email: str, *, now: datetime, address: str,
                           secret_key: str) -> None:
    """Mail a reset link if the address is an active account's. The caller says the same
    thing either way; requests are throttled per address asked for and per client."""
    keys = [(throttle.reset_key(email), throttle.RESET),
            (throttle.address_key(address), throttle.ADDRESS)]
    until = throttle.refused_until(keys, now=now)
    if until is not None:
        raise TooManyAttempts(until, now=now)
    throttle.fail(throttle.reset_key(email), throttle.RESET, now=now)
    user = find_user(email)
    if user is None or not user.is_active:
        throttle.fail(throttle.address_key(address), throttle.ADDRESS, now=now)
        return
    token = _signed_link(user, now=now, secret_key=secret_key, salt=RESET_SALT)
    queue_account_mail(user, AccountMailKind.PASSWORD_RESET, now=now, secret=token)


def user_for_reset(token: str, *, now: datetime, secret_key: str, max_age: timedelta) -> User:
    """The user a reset link is for, while it is fresh and its password unchanged."""
    user = _user_for_link(token, now=now, secret_key=secret_key, salt=RESET_SALT,
                          max_age=max_age)
    if user == _Refused.EXPIRED:
        raise DomainError("This reset link has expired. Ask for a new one.")
    if user == _Refused.INVALID:
        raise DomainError("This reset link is not valid. Ask for a new one.")
    if not isinstance(user, User):
        raise DomainError("This reset link has already been used. Ask for a new one.")
    return user


def reset_password(token: str, new: str, *, now: datetime, secret_key: str,
                   max_age: timedelta) -> User:
    user = user_for_reset(token, now=now, secret_key=secret_key, max_age=max_age)
    set_new_password(user, new, now=now, actor=user, action="password_reset")
    return user


def invite_user(email: str, fields: UserFields, *, now: datetime, actor: User | None,
                secret_key: str) -> User:
    """Create the user `email` without a password and mail them a link to choose one."""
    if find_user(email) is not None:
        raise DomainError("A user with this e-mail address already exists.", field="email")
    upsert_user(email, fields, given=fields.keys(), password=None, now=now, actor=actor,
                action="create")
    user = find_user(email)
    assert user is not None  # just created
    send_invitation(user, now=now, actor=actor, secret_key=secret_key)
    return user


def send_invitation(user: User, *, now: datetime, actor: User | None, secret_key: str) -> None:
    """Mail the link to choose a first password; sent again, it seals the links sent before."""
    if is_usable(user.password_hash):
        raise Conflict("%(email)s has already chosen a password: they can reset it from the "
                       "sign-in page.", email=user.email)
    if not user.is_active:
        raise Conflict("%(email)s cannot sign in (deactivated or archived): reactivate the "
                       "account first.", email=user.email)
    user.password_hash = unusable_password()
    token = _signed_link(user, now=now, secret_key=secret_key, salt=INVITATION_SALT)
    queue_account_mail(user, AccountMailKind.INVITATION, now=now, secret=token)
    record_audit(actor=actor, now=now, entity="user", entity_id=user.email,
                 action="invitation_sent")


def user_for_invitation(token: str, *, now: datetime, secret_key: str,
                        max_age: timedelta) -> User:
    """The user an invitation is for, while it is fresh and no password is chosen."""
    user = _user_for_link(token, now=now, secret_key=secret_key, salt=INVITATION_SALT,
                          max_age=max_age)
    if user == _Refused.EXPIRED:
        raise DomainError("This invitation has expired. Ask your administrator to send a "
                          "new one.")
    if user == _Refused.INVALID:
        raise DomainError("This invitation link is not valid. Ask your administrator to "
                          "send a new one.")
    if not isinstance(user, User):
        raise DomainError("This invitation has already been used or replaced by a newer one. "
                          "Sign in, or use the latest invitation.")
    return user


def accept_invitation(token: str, new: str, *, now: datetime, secret_key: str,
                      max_age: timedelta) -> User:
    user = user_for_invitation(token, now=now, secret_key=secret_key, max_age=max_age)
    set_new_password(user, new, now=now, actor=user, action="invitation_accepted")
    return user
