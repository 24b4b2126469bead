"""Limits on what a ticket may hold; forms, API and services share them."""

TITLE_MAX = 200
BODY_MAX = 20_000
REASON_MAX = 1_000
FILENAME_MAX = 255
