"""The accounts pages: one blueprint, its routes grouped by what they serve."""
from helpdesk.accounts.views import passwords, sessions, sign_in, tokens, two_factor
from helpdesk.accounts.views.blueprint import bp

# Imported for the routes they add to the blueprint.
__all__ = ["bp", "passwords", "sessions", "sign_in", "tokens", "two_factor"]
