"""Print the instant and zone a commit's suite also runs at under libfaketime.

usage: python3 scripts/faketime_date.py COMMIT  ->  three tab-separated fields:
  the local wall-clock time for `faketime -f "@…"`, the IANA zone for TZ, the instant in UTC.
The instant lies within two years either side of today and is fixed for a commit on a given day,
so a failure can be replayed with the printed command.
"""
import hashlib
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Zones whose offsets and daylight-saving rules differ from UTC and from each other.
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Pacific/Auckland", "Asia/Kolkata",
         "America/St_Johns", "Australia/Lord_Howe", "Pacific/Kiritimati")
TWO_YEARS = timedelta(days=730)


def derive(commit: str, today: datetime) -> tuple[datetime, str]:
    digest = int.from_bytes(hashlib.sha256(commit.encode()).digest()[:8], "big")
    offset = timedelta(seconds=digest % int(2 * TWO_YEARS.total_seconds())) - TWO_YEARS
    instant = (today + offset).replace(microsecond=0)
    return instant, ZONES[digest % len(ZONES)]


if __name__ == "__main__":
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    instant, zone = derive(sys.argv[1], today)
    local = instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    print(f"{local}\t{zone}\t{instant.isoformat()}")
