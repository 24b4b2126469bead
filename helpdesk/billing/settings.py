"""Who issues the credit notes and in which zone they are dated, read once from the configuration
by the edge (a request, a command) and handed to the services, which never read the
application's configuration themselves."""
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Seller:
    """The issuer printed on every credit note, snapshotted into the note when it is written."""

    name: str
    address: str
    company_id: str
    vat_number: str

    def identity(self) -> dict[str, str]:
        """The snapshot a note keeps, in the shape of `client_identity`."""
        return asdict(self)


@dataclass(frozen=True)
class BillingSettings:
    seller: Seller
    timezone: str  # the zone of issue dates, and so of the year a note is numbered in


def billing_settings(config: Mapping[str, Any]) -> BillingSettings:
    """The billing settings of an application's configuration (`current_app.config`)."""
    return BillingSettings(
        seller=Seller(name=config["SELLER_NAME"], address=config["SELLER_ADDRESS"],
                      company_id=config["SELLER_COMPANY_ID"],
                      vat_number=config["SELLER_VAT_NUMBER"]),
        timezone=config["BILLING_TIMEZONE"])
