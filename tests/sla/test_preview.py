"""The preview an administrator reads before a calendar is used: wall-clock windows day by day,
holidays named in the reader's language, and the due instant a ticket's clock gives."""
from datetime import UTC, date, datetime, timedelta

from helpdesk.sla.calendar import Calendar
from helpdesk.sla.preview import due_at, holiday_language, service_days

PARIS_WEEK = Calendar("Europe/Paris", {"mon": [("08:00", "12:00"), ("14:00", "18:00")],
                                       "sun": [("00:00", "06:00")]},
                      holidays_country="FR", closures=["2026-12-28"])


def test_days_start_on_the_local_day_of_the_start_and_keep_several_windows():
    days = service_days(PARIS_WEEK, datetime(2026, 11, 29, 23, 30, tzinfo=UTC), days=2)
    assert [day.day for day in days] == [date(2026, 11, 30), date(2026, 12, 1)]
    assert days[0].windows == (("08:00", "12:00"), ("14:00", "18:00"))
    assert days[0].service == timedelta(hours=8)
    assert days[1].windows == () and days[1].service == timedelta(0)


def test_the_spring_forward_night_holds_an_hour_less():
    [sunday] = service_days(PARIS_WEEK, datetime(2026, 3, 29, 12, 0, tzinfo=UTC), days=1)
    assert sunday.windows == (("00:00", "06:00"),) and sunday.service == timedelta(hours=5)


def test_a_24_7_day_ends_at_24_00_and_the_fall_back_day_lasts_25_hours():
    [day] = service_days(Calendar.always("Europe/Paris"),
                         datetime(2026, 10, 25, 12, 0, tzinfo=UTC), days=1)
    assert day.windows == (("00:00", "24:00"),) and day.service == timedelta(hours=25)


def test_holidays_are_named_in_the_readers_language_and_closures_flagged():
    days = {day.day: day for day in service_days(
        PARIS_WEEK, datetime(2026, 12, 21, 12, 0, tzinfo=UTC), days=8, language="fr")}
    assert days[date(2026, 12, 25)].holiday == "Noël"
    assert days[date(2026, 12, 28)].is_closure and days[date(2026, 12, 28)].windows == ()
    assert days[date(2026, 12, 21)].holiday is None


def test_the_holiday_language_is_the_closest_the_package_has():
    assert holiday_language(("en_US", "fr", "th"), "en") == "en_US"
    assert holiday_language(("en_US", "fr", "th"), "fr") == "fr"
    assert holiday_language(("de", "en_US"), "fr") is None


def test_the_due_instant_is_the_calendars_addition_of_service_time():
    # Monday 21 December, 18:00 in Paris: closed until Sunday 00:00–06:00; Monday 28 is closed;
    # the last 2 h on Sunday 3 January.
    start = datetime(2026, 12, 21, 17, 0, tzinfo=UTC)
    assert due_at(PARIS_WEEK, start, timedelta(hours=8)) == PARIS_WEEK.add(
        start, timedelta(hours=8)) == datetime(2027, 1, 3, 1, 0, tzinfo=UTC)
