"""The roles a user holds; what each may do is the access policy's (`helpdesk.accounts.access`)."""
from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    TECHNICIAN = "technician"
    TEAM_LEAD = "team_lead"
    FINANCE = "finance"
    ADMIN = "admin"
