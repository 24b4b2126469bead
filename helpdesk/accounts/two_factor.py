"""Two-factor sign-in: time-based codes (TOTP, RFC 6238) from an authenticator app, and one-time
recovery codes for when the app is lost.

Codes are checked against the app's clock, passed in as `now`. Use cases flush and audit; the
caller commits. The secret is never written to the audit trail.
"""
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa

from helpdesk.accounts.models import RecoveryCode, User
from helpdesk.accounts.roles import Role
from helpdesk.audit.services import record_audit
from helpdesk.config import ConfigError
from helpdesk.errors import Conflict
from helpdesk.extensions import db

# Between the password and the code: long enough to open the app (or enrol), short enough that a
# forgotten half sign-in is worth nothing.
SIGN_IN_STEP_LIFETIME = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
# Unambiguous when copied by hand (no 0/o, 1/l/i): 12 of these are about 59 random bits.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 3, 4
# Apps show "123 456"; people type it with a space or a dash.
SEPARATORS = re.compile(r"[\s-]+")
TOTP_CODE = re.compile(r"\d{6}")


def required_roles(names: Iterable[str]) -> frozenset[Role]:
    """The roles named in the TWO_FACTOR_REQUIRED_ROLES setting; a misspelt role would silently
    leave that role unprotected, so it is refused."""
    known = {role.value for role in Role}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ConfigError(f"TWO_FACTOR_REQUIRED_ROLES names unknown roles {', '.join(unknown)}; "
                          f"known roles are {', '.join(sorted(known))}")
    return frozenset(Role(name) for name in names)


def requires_two_factor(user: User, roles: frozenset[Role]) -> bool:
    return user.role in roles


def must_enrol(user: User, roles: frozenset[Role]) -> bool:
    return requires_two_factor(user, roles) and not user.has_two_factor


def enrolment_secret(user: User) -> str:
    """The secret of the user's enrolment, started now unless one is already awaiting its first
    code (so reloading the page keeps the QR code already scanned)."""
    if user.has_two_factor:
        raise Conflict("Two-factor sign-in is already on.")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_counter = None
        db.session.flush()
    return user.totp_secret


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """The QR code as an SVG data URI: an image the page's CSP allows (img-src data:)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def verify_totp(user: User, code: str, *, now: datetime) -> bool:
    """Whether `code` is the app's code for now, the step before or the step after (clocks
    drift), and later than the last accepted, so an overheard code cannot be replayed."""
    code = SEPARATORS.sub("", code)
    if user.totp_secret is None or not TOTP_CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    matched = [counter for counter in (current - 1, current, current + 1)
               if hmac.compare_digest(totp.generate_otp(counter), code)]
    if not matched:
        return False
    # One conditional update, so two requests racing with the same code cannot both pass.
    accepted = db.session.scalar(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.totp_last_counter.is_(None),
                                          User.totp_last_counter < matched[0]))
        .values(totp_last_counter=matched[0]).returning(User.id)
    )
    return accepted is not None


def _recovery_digest(code: str) -> str:
    """Recovery codes are long random strings, so a fast digest is enough to store them."""
    return hashlib.sha256(SEPARATORS.sub("", code).lower().encode()).hexdigest()


def _new_recovery_code() -> str:
    return "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
                    for _ in range(RECOVERY_GROUPS))


def _replace_recovery_codes(user: User, *, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(code),
                                    created_at=now) for code in codes)
    db.session.flush()
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


def use_recovery_code(user: User, code: str, *, now: datetime) -> bool:
    """Whether `code` is one of the user's unused recovery codes; it is then spent."""
    if not user.has_two_factor:
        return False
    # One conditional update, so two requests racing with the same code cannot both pass.
    spent = db.session.scalar(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_digest(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=now).returning(RecoveryCode.id)
    )
    if spent is None:
        return False
    left = recovery_codes_left(user)
    record_audit(actor=user, now=now, entity="user", entity_id=user.email,
                 action="recovery_code_used", changes={"recovery_codes_left": [left + 1, left]})
    return True


def verify_second_factor(user: User, code: str, *, now: datetime) -> bool:
    """A code from the app or, failing that, a recovery code (of another shape, so a wrong app
    code never spends one)."""
    if not user.has_two_factor:
        return False
    if TOTP_CODE.fullmatch(SEPARATORS.sub("", code)):
        return verify_totp(user, code, now=now)
    return use_recovery_code(user, code, now=now)


def enable_two_factor(user: User, *, now: datetime) -> list[str]:
    """Turn two-factor sign-in on, once a code of the enrolment's secret was accepted (so the app
    holds it): the recovery codes, to be shown once."""
    if user.has_two_factor:
        raise Conflict("Two-factor sign-in is already on.")
    if user.totp_secret is None or user.totp_last_counter is None:
        raise Conflict("Enter a code from your app to turn two-factor sign-in on.")
    user.totp_enabled_at = now
    codes = _replace_recovery_codes(user, now=now)
    record_audit(actor=user, now=now, entity="user", entity_id=user.email,
                 action="two_factor_enabled", changes={"two_factor": [False, True]})
    return codes


def check_can_disable(user: User, roles: frozenset[Role]) -> None:
    """Refuses before a code is asked for, so a refused request spends no code."""
    if requires_two_factor(user, roles):
        raise Conflict("Your role requires two-factor sign-in: it cannot be turned off.")
    if not user.has_two_factor:
        raise Conflict("Two-factor sign-in is already off.")


def disable_two_factor(user: User, *, roles: frozenset[Role], now: datetime) -> None:
    check_can_disable(user, roles)
    user.totp_secret = user.totp_enabled_at = user.totp_last_counter = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    record_audit(actor=user, now=now, entity="user", entity_id=user.email,
                 action="two_factor_disabled", changes={"two_factor": [True, False]})


def check_can_regenerate(user: User) -> None:
    if not user.has_two_factor:
        raise Conflict("Two-factor sign-in is off: there are no recovery codes.")


def regenerate_recovery_codes(user: User, *, now: datetime) -> list[str]:
    """New recovery codes, to be shown once; the previous ones stop working."""
    check_can_regenerate(user)
    left = recovery_codes_left(user)
    codes = _replace_recovery_codes(user, now=now)
    record_audit(actor=user, now=now, entity="user", entity_id=user.email,
                 action="recovery_codes_regenerated",
                 changes={"recovery_codes_left": [left, len(codes)]})
    return codes
