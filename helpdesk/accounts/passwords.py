"""Password hashes: argon2id at OWASP's parameters. The scrypt hashes of earlier versions are
still read, and replaced at the owner's next sign-in (`needs_rehash`)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

# OWASP Password Storage Cheat Sheet (2025): argon2id, 19 MiB of memory, 2 passes, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
ARGON2ID = "$argon2id$"
MIN_LENGTH = 12
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash.startswith(ARGON2ID):
        return check_password_hash(stored_hash, password)
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True for a hash of an older scheme or weaker parameters than today's."""
    return not stored_hash.startswith(ARGON2ID) or HASHER.check_needs_rehash(stored_hash)
