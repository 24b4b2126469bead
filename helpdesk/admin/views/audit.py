"""The audit trail (/admin/audit): every recorded change, newest first, filtered and paged."""
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import render_template, request
from flask.typing import ResponseReturnValue

from helpdesk.accounts.models import User
from helpdesk.admin import wording
from helpdesk.admin.forms.audit import AuditFilterForm
from helpdesk.admin.views.blueprint import bp
from helpdesk.audit.changes import readable_changes
from helpdesk.audit.queries import SYSTEM, AuditFilters, audit_actor_ids, audit_entities, audit_page
from helpdesk.extensions import db
from helpdesk.formatting import viewer_zone

PER_PAGE = 50


def _start_of(day: date | None) -> datetime | None:
    """Midnight of `day` in the reader's zone: the dates filtered on are the reader's days."""
    return None if day is None else datetime.combine(day, time(0), tzinfo=viewer_zone())


def _page_number() -> int:
    page = request.args.get("page", "")
    return int(page) if page.isdigit() and len(page) < 7 else 1


@bp.get("/audit")
def audit() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    actors = db.session.execute(sa.select(User.id, User.name).where(
        User.id.in_(audit_actor_ids())).order_by(User.name, User.id)).all()
    form.set_choices([(name, wording.entity_label(name)) for name in audit_entities()],
                     [(user_id, name) for user_id, name in actors])
    form.validate()
    actor = form.valid("actor")
    until = form.valid_date("until")
    filters = AuditFilters(
        entity=form.valid("entity") or None, text=form.valid("text") or None,
        actor=SYSTEM if actor == SYSTEM else int(actor) if actor else None,
        since=_start_of(form.valid_date("since")),
        before=_start_of(until + timedelta(days=1) if until else None))
    page = audit_page(filters, number=_page_number(), per_page=PER_PAGE)
    kept = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("admin/audit/index.html", form=form, page=page, filter_args=kept,
                           readable_changes=readable_changes, audit_value=wording.audit_value,
                           entity_label=wording.entity_label, action_label=wording.action_label)
