"""What an API token may be used for. A scope narrows what the token's owner may do through the
API; it never widens it: the owner's role is asked as well (`helpdesk.accounts.access`)."""
from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    FINANCE = "finance"


ALL_SCOPES = frozenset(Scope)
# A token that may change something may read what it changed.
IMPLIED = {Scope.WRITE: frozenset({Scope.READ})}


def grants(scopes: Iterable[Scope], needed: Scope) -> bool:
    return any(scope == needed or needed in IMPLIED.get(scope, ()) for scope in scopes)
