"""Password hashes: argon2id at OWASP's parameters. The scrypt hashes of earlier versions are
still read, and replaced at the owner's next sign-in (`needs_rehash`)."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

# OWASP Password Storage Cheat Sheet (2025): argon2id, 19 MiB of memory, 2 passes, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
ARGON2ID = "$argon2id$"
MIN_LENGTH = 12
MAX_LENGTH = 1024
# Starts no hash scheme, so no password matches it: the mark of an account whose owner has not
# chosen one yet.
UNUSABLE = "!"


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def unusable_password() -> str:
    """A stored value no password matches, random so that each one seals earlier links."""
    return UNUSABLE + secrets.token_hex(16)


def is_usable(stored_hash: str) -> bool:
    return not stored_hash.startswith(UNUSABLE)


def verify_password(stored_hash: str, password: str) -> bool:
    if not is_usable(stored_hash):
        return False
    if not stored_hash.startswith(ARGON2ID):
        return check_password_hash(stored_hash, password)
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True for a hash of an older scheme or weaker parameters than today's."""
    return not stored_hash.startswith(ARGON2ID) or HASHER.check_needs_rehash(stored_hash)
