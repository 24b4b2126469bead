"""The KPI dashboard for team leads, finance and admins, and its tables as CSV."""
from collections.abc import Callable, Iterable
from typing import TypeVar

from babel.dates import format_date
from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from helpdesk.accounts.access import OVERSIGHT, role_required
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Metric
from helpdesk.formatting import viewer_zone
from helpdesk.month import Month
from helpdesk.reporting import queries
from helpdesk.reporting.exports import TABLES, csv_text
from helpdesk.reporting.forms import DashboardFilterForm
from helpdesk.reporting.queries import Compliance, MeanTime, Period, Scope
from helpdesk.web.downloads import download

bp = Blueprint("reporting", __name__)

DEFAULT_MONTHS = 6
FILTERS = ("first", "last", "organisation", "priority")


def _filter_form() -> DashboardFilterForm:
    """The filters from the query string; the last six months, this one included, by default."""
    last = Month.of(now_utc(), viewer_zone())
    args = MultiDict({"first": str(last.plus(1 - DEFAULT_MONTHS)), "last": str(last)})
    for name in FILTERS:
        if name in request.args:
            args[name] = request.args[name].strip()
    form = DashboardFilterForm(formdata=args)
    form.set_choices(queries.organisation_choices(), queries.priority_codes(),
                     _("All organisations"), _("All priorities"))
    return form


def _selection(form: DashboardFilterForm) -> tuple[Period, Scope]:
    period = queries.make_period(form.first.data, form.last.data, viewer_zone().key)
    return period, Scope(organisation_id=form.organisation_id, priority_code=form.priority_code)


def month_name(month: str) -> str:
    """A month of the period ("2026-10") by its short name: "Oct 2026" ("oct. 2026")."""
    return format_date(Month.parse(month).first_day, "MMM y", locale=get_locale())


def metric_label(metric: Metric) -> str:
    return _("time to intervene (GTI)") if metric == Metric.GTI else _("time to restore (GTR)")


# A dashboard table's row: both kinds say which metric they count.
_Row = TypeVar("_Row", Compliance, MeanTime)


def _series(rows: Iterable[_Row], metric: Metric, value: Callable[[_Row], object]) -> list:
    return [value(row) for row in rows if row.metric == metric]


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _charts(period: Period, by_month: list[Compliance], times_by_month: list[MeanTime]) -> dict:
    """What charts.js draws; the tables beside each chart carry the same figures as text."""
    labels = [month_name(month) for month in period.months]
    return {
        "compliance": {
            "type": "line", "labels": labels, "max": 100, "suffix": " %",
            "datasets": [{"label": _("%(metric)s met", metric=metric.value.upper()),
                          "data": _series(by_month, metric, lambda row: (
                              None if row.met_percent is None else float(row.met_percent)))}
                         for metric in Metric]},
        "breaches": {
            "type": "bar", "labels": labels, "integer": True,
            "datasets": [{"label": _("%(metric)s breaches", metric=metric.value.upper()),
                          "data": _series(by_month, metric, lambda row: row.breached)}
                         for metric in Metric]},
        "times": {
            "type": "bar", "labels": labels, "suffix": " " + _("h"),
            "datasets": [{"label": _("Mean %(metric)s", metric=metric_label(metric)),
                          "data": _series(times_by_month, metric,
                                          lambda row: _hours(row.service_seconds))}
                         for metric in Metric]},
    }


def _csv_links(form: DashboardFilterForm) -> dict:
    return {name: form.data[name] for name in FILTERS if form.data.get(name)}


@bp.get("/dashboard")
@role_required(*OVERSIGHT)
def dashboard() -> ResponseReturnValue:
    form = _filter_form()
    if not form.validate():
        return render_template("reporting/dashboard.html", form=form, board=None), 400
    period, scope = _selection(form)
    found = queries.figures(period, scope)
    compliance, times = found.compliance, found.times
    board = {
        "period": period,
        "by_month": compliance["month"],
        "by_priority": compliance["priority"],
        "by_organisation": compliance["organisation"],
        "times_by_month": times["month"],
        "times_by_priority": times["priority"],
        "at_risk": queries.at_risk(scope, now=now_utc()),
        "charts": _charts(period, compliance["month"], times["month"]),
    }
    return render_template("reporting/dashboard.html", form=form, board=board,
                           filters=_csv_links(form), month_name=month_name,
                           metric_label=metric_label, at_risk_limit=queries.AT_RISK_LIMIT,
                           now=now_utc())


@bp.get("/dashboard/<table>.csv")
@role_required(*OVERSIGHT)
def table_csv(table: str) -> Response:
    spec = TABLES.get(table)
    if spec is None:
        abort(404)
    form = _filter_form()
    if not form.validate():
        problems = [error for errors in form.errors.values() for error in errors]
        return Response("\n".join(str(problem) for problem in problems) + "\n", status=400,
                        mimetype="text/plain")
    period, scope = _selection(form)
    text = csv_text(spec.header, spec.rows(period, scope, now_utc()))
    return download(text.encode("utf-8"), "text/csv",
                    f"{table}-{period.months[0]}-{period.months[-1]}.csv")
