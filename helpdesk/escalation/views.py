import re

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from helpdesk.accounts.models import TICKET_STAFF, Organisation, Role
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract, Metric
from helpdesk.db import MAX_ROW_ID
from helpdesk.errors import DomainError
from helpdesk.escalation import queries
from helpdesk.escalation.forms import ReadForm, WaiveForm
from helpdesk.escalation.messages import notification_subject
from helpdesk.escalation.models import Breach, Notification
from helpdesk.escalation.services import waive_breach
from helpdesk.extensions import db
from helpdesk.web.i18n import viewer_zone
from helpdesk.web.security import role_required

bp = Blueprint("escalation", __name__)
bp.add_app_template_global(notification_subject)

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
BREACH_READERS = (Role.FINANCE, Role.ADMIN, Role.TEAM_LEAD)


@bp.app_context_processor
def unread_notifications() -> dict:
    if current_user.is_authenticated and current_user.is_ticket_staff:
        return {"unread_notifications": queries.unread_count(current_user)}
    return {"unread_notifications": 0}


def current_month() -> str:
    return now_utc().astimezone(viewer_zone()).strftime("%Y-%m")


@bp.get("/notifications")
@role_required(*TICKET_STAFF)
def notifications():
    return render_template("escalation/notifications.html",
                           notifications=queries.notifications_for(current_user),
                           form=ReadForm())


@bp.post("/notifications/read")
@role_required(*TICKET_STAFF)
def mark_read():
    form = ReadForm()
    if form.validate_on_submit():
        query = sa.update(Notification).where(Notification.recipient_id == current_user.id,
                                              Notification.read_at.is_(None))
        if "notification" in request.form:
            only = _row_id(request.form["notification"])
            if only is None:
                abort(400, "Not a notification of yours.")
            query = query.where(Notification.id == only)
        db.session.execute(query.values(read_at=now_utc()))
        db.session.commit()
    return redirect(url_for("escalation.notifications"))


def _row_id(text: str | None) -> int | None:
    if text is None or not text.isdigit() or not 0 < int(text) <= MAX_ROW_ID:
        return None
    return int(text)


@bp.get("/breaches")
@role_required(*BREACH_READERS)
def breaches():
    month = request.args.get("month") or current_month()
    if not MONTH.fullmatch(month):
        flash("The month must look like 2026-10.", "error")
        month = current_month()
    metric = request.args.get("metric") or None
    waived = {"yes": True, "no": False}.get(request.args.get("waived", ""))
    organisation = _row_id(request.args.get("organisation"))
    rows = queries.breaches(month=month, contract_reference=request.args.get("contract") or None,
                            organisation_id=organisation,
                            metric=Metric(metric) if metric in ("gti", "gtr") else None,
                            waived=waived)
    return render_template(
        "escalation/breaches.html", breaches=rows, month=month, form=WaiveForm(formdata=None),
        contracts=db.session.scalars(sa.select(Contract).order_by(Contract.reference)).all(),
        organisations=db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all(),
        filters=request.args, can_waive=current_user.role in (Role.FINANCE, Role.ADMIN))


@bp.post("/breaches/<int:breach_id>/waive")
@role_required(Role.FINANCE, Role.ADMIN)
def waive(breach_id: int):
    breach = db.session.get(Breach, breach_id) if 0 < breach_id <= MAX_ROW_ID else None
    if breach is None:
        abort(404)
    form = WaiveForm()
    back = url_for("escalation.breaches", month=breach.billing_month)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"Not waived: {error}", "error")
        return redirect(back)
    try:
        waive_breach(breach, actor=current_user, reason=form.reason.data, now=now_utc())
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(f"Not waived: {error.message}", "error")
    else:
        flash(f"Breach of {breach.ticket.number} ({breach.metric.value.upper()}) waived.",
              "success")
    return redirect(back)


@bp.get("/admin/status")
@role_required(Role.ADMIN, Role.TEAM_LEAD)
def status():
    config = current_app.config
    health = queries.scheduler_health(now=now_utc(),
                                      interval_seconds=config["SWEEP_INTERVAL_SECONDS"],
                                      silent_intervals=config["SCHEDULER_SILENT_INTERVALS"])
    return render_template("escalation/status.html", health=health,
                           interval=config["SWEEP_INTERVAL_SECONDS"])
