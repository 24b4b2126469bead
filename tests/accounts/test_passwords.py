"""Passwords are stored as argon2id at OWASP's parameters; older hashes are read and upgraded
at their owner's next sign-in."""
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.security import generate_password_hash

from helpdesk.accounts.models import User
from helpdesk.accounts.passwords import hash_password, needs_rehash, verify_password
from helpdesk.accounts.services import authenticate
from helpdesk.clock import now_utc
from helpdesk.extensions import db
from tests import factories


def test_a_new_hash_is_argon2id_at_owasp_parameters():
    stored = hash_password("a long enough password")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "another password")
    assert not needs_rehash(stored)


def test_an_older_scrypt_hash_is_still_read():
    stored = generate_password_hash("old password", method="scrypt")
    assert verify_password(stored, "old password")
    assert not verify_password(stored, "wrong password")
    assert needs_rehash(stored)


def test_an_argon2_hash_with_weaker_parameters_needs_rehashing():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("secret words")
    assert verify_password(weak, "secret words")
    assert needs_rehash(weak)


def test_a_damaged_hash_verifies_nothing():
    assert not verify_password("$argon2id$v=19$m=19456,t=2,p=1$garbage", "anything")


def _stored_hash(email: str) -> str:
    return db.session.scalar(sa.select(User.password_hash).where(User.email == email))


def test_signing_in_replaces_a_scrypt_hash_with_argon2id(app, world):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client).values(
            password_hash=generate_password_hash(factories.PASSWORD, method="scrypt")))
        db.session.commit()
        assert authenticate(world.client, factories.PASSWORD, now=now_utc()) is not None
        db.session.commit()
        upgraded = _stored_hash(world.client)
    assert upgraded.startswith("$argon2id$")
    assert verify_password(upgraded, factories.PASSWORD)


def test_a_failed_sign_in_leaves_the_old_hash_alone(app, world):
    old = generate_password_hash(factories.PASSWORD, method="scrypt")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client)
                           .values(password_hash=old))
        db.session.commit()
        assert authenticate(world.client, "not the password", now=now_utc()) is None
        db.session.commit()
        assert _stored_hash(world.client) == old
