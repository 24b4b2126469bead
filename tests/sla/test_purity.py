"""The SLA engine imports only the standard library, `holidays` and itself."""

import ast
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "helpdesk" / "sla"
ALLOWED_THIRD_PARTY = {"holidays"}


def forbidden_imports(source: str) -> list[str]:
    """Imported module names that are neither stdlib, `holidays`, nor `helpdesk.sla`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: within helpdesk.sla
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name == "helpdesk.sla" or name.startswith("helpdesk.sla."):
                continue
            if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
                continue
            found.append(name)
    return found


def engine_modules() -> list[Path]:
    return sorted(ENGINE.glob("*.py"))


def test_engine_modules_are_found():
    assert {path.name for path in engine_modules()} >= {"__init__.py", "calendar.py", "clock.py",
                                                        "durations.py"}


@pytest.mark.parametrize("path", engine_modules(), ids=lambda path: path.name)
def test_engine_module_has_no_forbidden_imports(path):
    assert forbidden_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    ["import flask", "from sqlalchemy import select", "import helpdesk.tickets.models",
     "from helpdesk import db", "from helpdesk.clock import now_utc", "import helpdesk"],
)
def test_forbidden_imports_are_detected(source):
    assert forbidden_imports(source) != []


@pytest.mark.parametrize(
    "source",
    ["import datetime", "from zoneinfo import ZoneInfo", "import holidays",
     "from helpdesk.sla.calendar import Calendar", "from .calendar import Calendar",
     "from __future__ import annotations"],
)
def test_allowed_imports_pass(source):
    assert forbidden_imports(source) == []
