"""Dates, durations and money read the way the viewer's language writes them."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from helpdesk.formatting import duration, localtime, money

WINTER_NOON_UTC = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize("value, english, french", [
    (timedelta(hours=2, minutes=30), "2\xa0h 30\xa0min", "2\xa0h 30\xa0min"),
    (timedelta(days=3, hours=4, minutes=5), "3\xa0d 4\xa0h", "3\xa0j 4\xa0h"),
    (timedelta(seconds=45), "45\xa0s", "45\xa0s"),
    (timedelta(0), "0\xa0min", "0\xa0min"),
    (-timedelta(minutes=90), "-1\xa0h 30\xa0min", "-1\xa0h 30\xa0min"),
])
def test_durations_keep_two_units_and_use_the_language_symbols(request_context, value,
                                                                english, french):
    with force_locale("en"):
        assert duration(value) == english
    with force_locale("fr"):
        assert duration(value) == french


def test_money_follows_the_language_conventions(request_context):
    amount = Decimal("1234.5")
    with force_locale("en"):
        assert money(amount, "EUR") == "€1,234.50"
    with force_locale("fr"):
        assert money(amount, "EUR") == "1\u202f234,50\xa0€"
    assert money(None, "EUR") == "—"


def test_instants_show_in_the_viewer_zone_and_language(request_context):
    with force_locale("en"):
        assert localtime(WINTER_NOON_UTC, "date") == "3 Dec 2026"
        assert localtime(WINTER_NOON_UTC, "time") == "13:00"  # Paris, the default zone
    with force_locale("fr"):
        assert localtime(WINTER_NOON_UTC, "date") == "3 déc. 2026"
    assert localtime(None) == "—"
