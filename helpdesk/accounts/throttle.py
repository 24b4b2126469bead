"""Failed attempts slow down, then lock, whatever worker or host answers them.

Each key (an account, a client address) is one row of `throttles`. A failure moves it with a
single UPDATE, which the database applies atomically, so concurrent workers never lose a count
and exactly one of them sees the failure that locks the key. Refused attempts are not counted:
waiting out the delay is enough to be heard again, and a lock never prolongs itself.
"""
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from helpdesk.accounts.models import Throttle
from helpdesk.extensions import db


@dataclass(frozen=True)
class Policy:
    free: int  # failures answered at once
    lock_after: int  # the failure that locks the key
    max_delay: timedelta  # between free and lock: 1 s, 2 s, 4 s… up to this
    first_lock: timedelta  # each further lock lasts twice as long, up to max_lock
    max_lock: timedelta
    forget_after: timedelta  # a key quiet for this long starts afresh

    def delay(self, failures: int) -> timedelta:
        if failures <= self.free:
            return timedelta(0)
        return min(timedelta(seconds=1 << min(failures - self.free - 1, 20)), self.max_delay)

    def lock(self, locks: int) -> timedelta:
        return min(self.first_lock * (1 << min(max(locks - 1, 0), 20)), self.max_lock)


# One person mistyping is never slowed; a guesser gets ten tries, then waits 15 min, 30 min…
ACCOUNT = Policy(free=5, lock_after=10, max_delay=timedelta(seconds=30),
                 first_lock=timedelta(minutes=15), max_lock=timedelta(hours=24),
                 forget_after=timedelta(hours=24))
# An office behind one address holds many people: more room, the same shape.
ADDRESS = Policy(free=20, lock_after=100, max_delay=timedelta(seconds=30),
                 first_lock=timedelta(minutes=15), max_lock=timedelta(hours=24),
                 forget_after=timedelta(hours=24))
# Reset mails asked for one address: every request counts, so nobody's inbox can be flooded.
RESET = Policy(free=3, lock_after=5, max_delay=timedelta(minutes=5),
               first_lock=timedelta(hours=1), max_lock=timedelta(hours=24),
               forget_after=timedelta(hours=24))


def account_key(email: str) -> str:
    """Unknown addresses are keyed too: the answers never tell which accounts exist."""
    return "account:" + email.strip().lower()[:300]


def reset_key(email: str) -> str:
    return "reset:" + email.strip().lower()[:300]


def address_key(address: str | None) -> str:
    """An IPv6 client is its /64, which one subscriber usually holds whole."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "address:unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network((ip, 64), strict=False)}"
    return f"address:{ip}"


def refused_until(keys: Iterable[tuple[str, Policy]], *, now: datetime) -> datetime | None:
    """The instant before which an attempt on any of these keys is refused unheard, or None."""
    policies = dict(keys)
    rows = db.session.execute(
        sa.select(Throttle.key, Throttle.failures, Throttle.last_failure_at,
                  Throttle.locked_until).where(Throttle.key.in_(policies)))
    until: datetime | None = None
    for key, failures, last_failure_at, locked_until in rows:
        policy = policies[key]
        candidates = [locked_until] if locked_until is not None else []
        delay = policy.delay(failures)
        # No delay, no refusal: a failure another worker recorded a moment after this request
        # began must not read as one in its future.
        if delay and now - last_failure_at < policy.forget_after:
            candidates.append(last_failure_at + delay)
        for instant in candidates:
            if instant > now and (until is None or instant > until):
                until = instant
    return until


def fail(key: str, policy: Policy, *, now: datetime) -> datetime | None:
    """Count one failure on `key`; the end of the lock when this very failure locked it."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(Throttle).values(key=key, failures=0, last_failure_at=now, locks=0)
                       .on_conflict_do_nothing(index_elements=["key"]))
    quiet = Throttle.last_failure_at < now - policy.forget_after
    failures, locks = db.session.execute(
        sa.update(Throttle).where(Throttle.key == key)
        .values(failures=sa.case((quiet, 1), else_=Throttle.failures + 1),
                locks=sa.case((quiet, 0), else_=Throttle.locks),
                last_failure_at=now)
        .returning(Throttle.failures, Throttle.locks)
        .execution_options(synchronize_session=False)).one()
    if failures < policy.lock_after:
        return None
    until = now + policy.lock(locks + 1)
    # Conditional: of two workers both seeing the locking count, one locks and tells.
    locked = db.session.execute(
        sa.update(Throttle).where(Throttle.key == key, Throttle.failures >= policy.lock_after)
        .values(failures=0, locks=Throttle.locks + 1, locked_until=until)
        .returning(Throttle.key)
        .execution_options(synchronize_session=False)).first()
    return until if locked is not None else None


def forget(key: str) -> None:
    db.session.execute(sa.delete(Throttle).where(Throttle.key == key)
                       .execution_options(synchronize_session=False))
