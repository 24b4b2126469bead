import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from helpdesk.accounts.access import (
    FINANCE,
    OPERATIONS,
    OVERSIGHT,
    TICKET_STAFF,
    manages_billing,
    role_required,
    works_tickets,
)
from helpdesk.accounts.models import Organisation
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract, Metric
from helpdesk.db import MAX_ROW_ID
from helpdesk.escalation import queries
from helpdesk.escalation.forms import ReadForm, WaiveForm
from helpdesk.escalation.messages import notification_subject
from helpdesk.escalation.models import Breach
from helpdesk.escalation.services import mark_notifications_read, waive_breach
from helpdesk.extensions import db
from helpdesk.formatting import month_label, viewer_zone
from helpdesk.month import Month
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message
from helpdesk.web.months import month_in_query

bp = Blueprint("escalation", __name__)
bp.add_app_template_global(notification_subject)

NOTIFICATION_PAGE_SIZE = 50


@bp.app_context_processor
def unread_notifications() -> dict:
    if current_user.is_authenticated and works_tickets(current_user):
        return {"unread_notifications": queries.unread_count(current_user)}
    return {"unread_notifications": 0}


def current_month() -> Month:
    return Month.of(now_utc(), viewer_zone())


@bp.get("/notifications")
@role_required(*TICKET_STAFF)
def notifications() -> ResponseReturnValue:
    before = _row_id(request.args.get("before"))
    rows = queries.notification_page(current_user, before_id=before,
                                   limit=NOTIFICATION_PAGE_SIZE + 1)
    older = rows[NOTIFICATION_PAGE_SIZE - 1].id if len(rows) > NOTIFICATION_PAGE_SIZE else None
    return render_template("escalation/notifications.html",
                           notifications=rows[:NOTIFICATION_PAGE_SIZE], older=older,
                           paged=before is not None, form=ReadForm())


@bp.post("/notifications/read")
@role_required(*TICKET_STAFF)
def mark_read() -> ResponseReturnValue:
    form = ReadForm()
    if not form.validate_on_submit():
        abort(400, _("The form expired. Reload the page and try again."))
    only = None
    if "notification" in request.form:
        only = _row_id(request.form["notification"])
        if only is None:
            abort(400, _("Not a notification of yours."))
    changed = mark_notifications_read(current_user, notification_id=only, now=now_utc())
    db.session.commit()
    if only is not None:
        flash(_("Notification marked as read.") if changed
              else _("That notification was already read."), "success")
    elif changed:
        flash(ngettext("%(num)d notification marked as read.",
                       "%(num)d notifications marked as read.", changed), "success")
    else:
        flash(_("Every notification was already read."), "success")
    return redirect(url_for("escalation.notifications",
                            before=_row_id(request.form.get("before"))))


def _row_id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or not 0 < int(text) <= MAX_ROW_ID:
        return None
    return int(text)


@bp.get("/breaches")
@role_required(*OVERSIGHT)
def breaches() -> ResponseReturnValue:
    month, status = month_in_query(current_month(), _("The month must look like 2026-10."))
    metric = request.args.get("metric") or None
    waived = {"yes": True, "no": False}.get(request.args.get("waived", ""))
    organisation = _row_id(request.args.get("organisation"))
    rows = queries.breaches(month=str(month), contract_reference=request.args.get("contract") or None,
                            organisation_id=organisation,
                            metric=Metric(metric) if metric in ("gti", "gtr") else None,
                            waived=waived)
    return render_template(
        "escalation/breaches.html", breaches=rows, month=month, form=WaiveForm(formdata=None),
        month_label=month_label,
        contracts=db.session.scalars(sa.select(Contract).order_by(Contract.reference)).all(),
        organisations=db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all(),
        filters=request.args, can_waive=manages_billing(current_user)), status


@bp.post("/breaches/<int:breach_id>/waive")
@role_required(*FINANCE)
def waive(breach_id: int) -> ResponseReturnValue:
    breach = db.session.get(Breach, breach_id) if 0 < breach_id <= MAX_ROW_ID else None
    if breach is None:
        abort(404)
    form = WaiveForm()
    back = url_for("escalation.breaches", month=breach.billing_month)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(_("Not waived: %(reason)s", reason=error), "error")
        return redirect(back)
    with committed() as waiving:
        waive_breach(breach, actor=current_user, reason=form.reason.data, now=now_utc())
    if waiving.refusal is not None:
        flash(_("Not waived: %(reason)s", reason=error_message(waiving.refusal)), "error")
    else:
        flash(_("Breach of %(ticket)s (%(clock)s) waived.", ticket=breach.ticket.number,
                clock=breach.metric.value.upper()), "success")
    return redirect(back)


@bp.get("/admin/status")
@role_required(*OPERATIONS)
def status() -> ResponseReturnValue:
    config = current_app.config
    health = queries.scheduler_health(now=now_utc(),
                                      interval_seconds=config["SWEEP_INTERVAL_SECONDS"],
                                      silent_intervals=config["SCHEDULER_SILENT_INTERVALS"])
    return render_template("escalation/status.html", health=health,
                           interval=config["SWEEP_INTERVAL_SECONDS"])
