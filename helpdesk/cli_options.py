"""Options the command groups share: `--at`, an ISO 8601 instant, refused in one line when it is
not one the helpdesk handles."""
from datetime import datetime

import click

from helpdesk.clock import parse_instant


def instant_option(_ctx: click.Context, _param: click.Parameter,
                   value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
