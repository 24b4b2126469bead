"""An audit entry's changes as people read them: nested values compared down to the parts that
changed ("priorities[P1].gti_seconds: 7200 → 3600"), not two whole documents side by side."""
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Rows of a list are matched by these keys when they have one (priorities by code, ...).
_ROW_KEYS = ("code", "reference", "email", "below_percent", "at_percent")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def _row_key(*sides: list[Any]) -> str | None:
    """The key naming each row of both lists once, if any."""
    for key in _ROW_KEYS:
        if all(_names_each_row(rows, key) for rows in sides):
            return key
    return None


def _names_each_row(rows: list[Any], key: str) -> bool:
    if not all(isinstance(row, dict) and key in row for row in rows):
        return False
    return len({str(row[key]) for row in rows}) == len(rows)


def _walk(path: str, before: Any, after: Any) -> Iterator[Change]:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            yield from _walk(f"{path}.{key}", before.get(key), after.get(key))
        return
    if isinstance(before, list) and isinstance(after, list) and before and after:
        key = _row_key(before, after)
        if key is not None:
            old = {str(row[key]): row for row in before}
            new = {str(row[key]): row for row in after}
            for name in [*old, *(n for n in new if n not in old)]:
                yield from _walk(f"{path}[{name}]", old.get(name), new.get(name))
            return
        if len(before) == len(after) and any(isinstance(v, (dict, list)) for v in before):
            for index, (old_item, new_item) in enumerate(zip(before, after, strict=True)):
                yield from _walk(f"{path}[{index}]", old_item, new_item)
            return
    yield Change(path, before, after)


def readable_changes(changes: dict[str, Any]) -> list[Change]:
    """The stored {field: [before, after]} of an entry, nested values compared part by part."""
    found: list[Change] = []
    for field, pair in changes.items():
        if isinstance(pair, list) and len(pair) == 2:
            found.extend(_walk(field, pair[0], pair[1]))
        else:  # not a before/after pair: shown as it was stored
            found.append(Change(field, None, pair))
    return found
