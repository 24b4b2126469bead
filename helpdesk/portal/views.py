"""The client's monthly SLA report: the one page that draws on two domains standing side by
side, reporting (clocks met and breached) and billing (availability and credits), so it sits
above both rather than in either."""
from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.accounts.access import CLIENTS, role_required
from helpdesk.billing import queries as billing_queries
from helpdesk.billing.forms import MONTH_MESSAGE
from helpdesk.clock import now_utc
from helpdesk.formatting import viewer_zone
from helpdesk.month import Month, MonthError
from helpdesk.reporting.client_report import SlaReport, sla_report
from helpdesk.reporting.exports import report_chart, report_csv
from helpdesk.web.downloads import download
from helpdesk.web.months import month_in_query, refusal

bp = Blueprint("portal", __name__, url_prefix="/billing")


def _report(month: str) -> SlaReport:
    organisation_id = current_user.organisation_id
    return sla_report(month, billing_queries.month_figures(organisation_id, month),
                      billing_queries.client_credit_notes(organisation_id, month=month))


@bp.get("/my/report")
@role_required(*CLIENTS)
def my_report() -> ResponseReturnValue:
    last_ended = Month.of(now_utc(), viewer_zone()).previous()
    month, status = month_in_query(last_ended, MONTH_MESSAGE)
    report = _report(str(month))
    charts = {item.contract.id: report_chart(item, met=_("Met"), breached=_("Breached"))
              for item in report.contracts}
    return render_template("portal/report.html", month=month, report=report,
                           charts=charts), status


@bp.get("/my/report.csv")
@role_required(*CLIENTS)
def my_report_csv() -> Response:
    """The report's figures for a spreadsheet; a bad month is refused, not replaced."""
    try:
        month = str(Month.parse(request.args.get("month", "")))
    except MonthError as error:
        return Response(f"{refusal(error, MONTH_MESSAGE)}\n", status=400, mimetype="text/plain")
    return download(report_csv(_report(month)).encode("utf-8"), "text/csv",
                    f"sla-report-{month}.csv")
