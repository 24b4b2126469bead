"""The administration pages: one blueprint under /admin, for admins only, its routes grouped
by area."""
from helpdesk.admin.views import audit, calendars, contracts, home, organisations, transfer, users
from helpdesk.admin.views.blueprint import bp

# Imported for the routes they add to the blueprint.
__all__ = ["audit", "bp", "calendars", "contracts", "home", "organisations", "transfer", "users"]
