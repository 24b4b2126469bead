"""ISO 8601 durations of fixed length and human labels."""

from datetime import timedelta

import pytest

from helpdesk.sla.durations import humanize, parse_iso_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT2H", timedelta(hours=2)),
        ("PT8H", timedelta(hours=8)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("PT45M", timedelta(minutes=45)),
        ("PT90S", timedelta(seconds=90)),
        ("P1D", timedelta(days=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT0S", timedelta(0)),
        ("P0D", timedelta(0)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,25S", timedelta(seconds=1, milliseconds=250)),
        ("PT1.5H", timedelta(hours=1, minutes=30)),
        ("PT2000H", timedelta(hours=2000)),
        ("PT0.000001S", timedelta(microseconds=1)),
    ],
)
def test_parse_iso_duration_accepts_fixed_length_durations(text, expected):
    assert parse_iso_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "P1DT", "2H", "PT2h", "pt2h", " PT2H", "PT2H ", "-PT2H", "PT-2H", "P1W2D",
     "PT1.5H30M", "PT1H1H", "PT30M1H", "P0003-02-04", "PT.5S", "PT1.S", "PT0.0000001S", "PT1X"],
)
def test_parse_iso_duration_rejects_malformed_text(text):
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        parse_iso_duration(text)


@pytest.mark.parametrize("text", ["P1Y", "P2M", "P1Y2M3DT4H", "P1MT2H"])
def test_parse_iso_duration_rejects_years_and_months(text):
    with pytest.raises(ValueError, match="not an ISO 8601 duration of fixed length"):
        parse_iso_duration(text)


def test_parse_iso_duration_rejects_non_strings():
    with pytest.raises(TypeError):
        parse_iso_duration(7200)


@pytest.mark.parametrize(
    ("duration", "label"),
    [
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=30), "2 h 30 min"),
        (timedelta(hours=2, minutes=30, seconds=59), "2 h 30 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(days=3, hours=4), "3 d 4 h"),
        (timedelta(days=3, minutes=4), "3 d"),
        (timedelta(seconds=30), "30 s"),
        (timedelta(minutes=1, seconds=30), "1 min 30 s"),
        (timedelta(0), "0 min"),
        (timedelta(milliseconds=300), "0 min"),
        (-timedelta(hours=1, minutes=5), "-1 h 5 min"),
    ],
)
def test_humanize_gives_short_labels(duration, label):
    assert humanize(duration) == label
