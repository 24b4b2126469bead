"""What the contract import's modules may import: accounts, audit and the core, never a domain
built on contracts, never the request."""
from pathlib import Path

import pytest

from tests.imports import imported_modules

HELPDESK = Path(__file__).parents[2] / "helpdesk"
ABOVE_CONTRACTS = ("helpdesk.tickets", "helpdesk.escalation", "helpdesk.billing",
                   "helpdesk.reporting", "helpdesk.api", "helpdesk.demo", "helpdesk.web")


def _imports_any(path: Path, packages: tuple[str, ...]) -> list[str]:
    return [name for name in imported_modules(path)
            if any(name == package or name.startswith(package + ".") for package in packages)]


@pytest.mark.parametrize("module", ["schema", "services", "importer"])
def test_import_module_imports_no_domain_above_contracts_and_not_flask(module):
    path = HELPDESK / "contracts" / f"{module}.py"
    assert _imports_any(path, ABOVE_CONTRACTS + ("flask",)) == []


@pytest.mark.parametrize("path", sorted((HELPDESK / "accounts").glob("*.py")), ids=lambda p: p.name)
def test_accounts_module_does_not_import_contracts(path):
    assert _imports_any(path, ("helpdesk.contracts",)) == []
