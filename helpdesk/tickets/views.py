from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage

from helpdesk.accounts.access import (
    CLIENTS,
    EVERYONE,
    TICKET_ACTORS,
    TICKET_STAFF,
    manages_outages,
    role_required,
    sees_audit_trail,
    visible_attachments,
    visible_messages,
    works_tickets,
)
from helpdesk.audit.queries import trail
from helpdesk.clock import now_utc
from helpdesk.contracts import queries as contract_queries
from helpdesk.db import MAX_ROW_ID
from helpdesk.errors import DomainError
from helpdesk.formatting import viewer_zone
from helpdesk.tickets import outages, queries, services, wording
from helpdesk.tickets.attachments import StoredFile, served_type, store_file, stored_path
from helpdesk.tickets.clocks import ticket_clocks
from helpdesk.tickets.forms import (
    AssignForm,
    CancelForm,
    CorrectOutageForm,
    DeleteOutageForm,
    EndOutageForm,
    NewTicketForm,
    NoteForm,
    RecordOutageForm,
    ReopenForm,
    ReplyForm,
    ReprioritiseForm,
    priority_label,
)
from helpdesk.tickets.models import Outage, Status, Ticket
from helpdesk.tickets.queue import (
    QueueFilterForm,
    countdown_due,
    countdown_time,
    countdown_words,
)
from helpdesk.tickets.queue import countdown as queue_countdown
from helpdesk.tickets.workflow import Action, allowed_actions, status_label
from helpdesk.transaction import committed
from helpdesk.web.errors import error_message
from helpdesk.web.forms import ConfirmForm

bp = Blueprint("tickets", __name__)
bp.add_app_template_filter(status_label)

PAGE_SIZE = 50

# Each action's form and how its data becomes the use case's arguments.
ACTION_FORMS = {
    Action.TAKE: (ConfirmForm, lambda form: {}),
    Action.WAIT: (ConfirmForm, lambda form: {}),
    Action.RESUME: (ConfirmForm, lambda form: {}),
    Action.RESOLVE: (ConfirmForm, lambda form: {}),
    Action.CONFIRM: (ConfirmForm, lambda form: {}),
    Action.REOPEN: (ReopenForm, lambda form: {"reason": form.reason.data}),
    Action.CANCEL: (CancelForm, lambda form: {"reason": form.reason.data}),
    Action.REPLY: (ReplyForm, lambda form: {"body": form.body.data}),
    Action.NOTE: (NoteForm, lambda form: {"body": form.body.data}),
    Action.REPRIORITISE: (ReprioritiseForm, lambda form: {"priority_code": form.priority.data,
                                                          "reason": form.reason.data}),
    Action.ASSIGN: (AssignForm, lambda form: {"assignee": queries.get_assignable(
        form.assignee.data)}),
}

# What the page says once an action is done.
ACTION_DONE = {
    Action.TAKE: _l("You took the ticket in charge."),
    Action.REPLY: _l("Reply sent."),
    Action.NOTE: _l("Internal note added."),
    Action.WAIT: _l("The ticket now waits on the client."),
    Action.RESUME: _l("Work on the ticket resumed."),
    Action.RESOLVE: _l("Ticket resolved."),
    Action.CONFIRM: _l("Resolution confirmed: the ticket is closed."),
    Action.REOPEN: _l("Ticket reopened."),
    Action.CANCEL: _l("Ticket cancelled."),
    Action.REPRIORITISE: _l("Priority changed."),
    Action.ASSIGN: _l("Assignee changed."),
}

# Each change to a recorded outage: its form, the use case, and what the flash says.
OUTAGE_CHANGES = {
    "end": (EndOutageForm, lambda outage, form, now: outages.end_outage(
        outage, actor=current_user, ended_at=form.ended_at.data or now.replace(microsecond=0),
        now=now), _l("Outage ended.")),
    "correct": (CorrectOutageForm, lambda outage, form, now: outages.correct_outage(
        outage, actor=current_user, started_at=form.started_at.data,
        ended_at=form.ended_at.data, reason=form.reason.data, now=now), _l("Outage corrected.")),
    "delete": (DeleteOutageForm, lambda outage, form, now: outages.delete_outage(
        outage, actor=current_user, reason=form.reason.data, now=now), _l("Outage deleted.")),
}


@contextmanager
def _upload(upload: FileStorage | None) -> Iterator[StoredFile | None]:
    """The stored upload, removed again if what follows (the use case, the commit) fails."""
    if upload is None or not upload.filename:
        yield None
        return
    directory = Path(current_app.config["ATTACHMENT_DIR"])
    stored = store_file(upload.stream, upload.filename, directory=directory,
                        max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
    try:
        yield stored
    except BaseException:
        stored_path(directory, stored.storage_name).unlink(missing_ok=True)
        raise


def _ticket_or_404(number: str, *, for_update: bool = False) -> Ticket:
    ticket = queries.get_ticket(current_user, number, for_update=for_update)
    if ticket is None:
        abort(404)
    return ticket


def _refused(form: FlaskForm, refusal: DomainError, number: str) -> Ticket:
    """Show the refusal on the form, and read the ticket again: the rollback expired it."""
    _apply_domain_error(form, refusal)
    return _ticket_or_404(number)


def _apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error_message(error)]
    else:
        form.form_errors.append(error_message(error))


def _action_forms(ticket: Ticket, submitted: tuple[Action, object] | None = None) -> dict:
    forms = {}
    for action in allowed_actions(ticket.status, current_user.role):
        form_class = ACTION_FORMS[action][0]
        form = submitted[1] if submitted and submitted[0] == action else form_class(formdata=None)
        # Several forms share field names (body, reason): ids must stay unique for the labels.
        for field in form:
            field.id = field.label.field_id = f"{action.value}-{field.name}"
        if action == Action.REPRIORITISE:
            form.priority.choices = [("", _("— choose —"))] + [
                (p.code, priority_label(p)) for p in ticket.contract_version.priorities
                if p.id != ticket.priority_id]
        if action == Action.ASSIGN:
            form.assignee.choices = [("", _("— choose —"))] + [
                (u.email, u.name) for u in queries.assignable_users()
                if u.id != ticket.assignee_id]
        forms[action.value] = form
    return forms


def _outage_forms(ticket: Ticket, listed: list[Outage],
                  submitted: tuple[str, FlaskForm] | None = None) -> dict:
    """Staff's forms for the outages: "record", and "end-ID", "correct-ID", "delete-ID"."""
    if not manages_outages(current_user):
        return {}
    submitted_key, submitted_form = submitted or (None, None)

    def form_for(key: str, form_class: type[FlaskForm], **data: Any) -> FlaskForm:
        form = submitted_form if key == submitted_key else form_class(formdata=None, **data)
        for field in form:
            field.id = field.label.field_id = f"outage-{key}-{field.name}"
        return form

    forms = {}
    if ticket.status != Status.CANCELLED:
        forms["record"] = form_for("record", RecordOutageForm)
    for outage in listed:
        if outage.ended_at is None:
            forms[f"end-{outage.id}"] = form_for(f"end-{outage.id}", EndOutageForm)
        forms[f"correct-{outage.id}"] = form_for(
            f"correct-{outage.id}", CorrectOutageForm, started_at=outage.started_at,
            ended_at=outage.ended_at)
        forms[f"delete-{outage.id}"] = form_for(f"delete-{outage.id}", DeleteOutageForm)
    if submitted_key is not None and submitted_key not in forms:
        # The page no longer offers that form (the outage ended meanwhile, the ticket was
        # cancelled): say why above the page instead.
        for error in [*submitted_form.form_errors,
                      *(e for field in submitted_form for e in field.errors)]:
            flash(error, "error")
    return forms


def _render_ticket(ticket: Ticket, submitted: tuple[Action, FlaskForm] | None = None,
                   status: int = 200, *,
                   outage_form: tuple[str, FlaskForm] | None = None) -> tuple[str, int]:
    staff = works_tickets(current_user)
    now = now_utc()
    messages = visible_messages(current_user, ticket.messages)
    attachments = visible_attachments(current_user, ticket.attachments)
    audit = trail("ticket", ticket.number) if sees_audit_trail(current_user) else []
    listed = queries.ticket_outages(ticket)
    clocks = ticket_clocks(ticket, now=now)
    explained = {metric: {"name": wording.metric_name(metric),
                          "state": wording.clock_state(clock.status),
                          "promise": wording.promise(metric, clock),
                          "due_reason": wording.due_reason(clock),
                          "timeline": wording.timeline(ticket, metric, clock)}
                 for metric, clock in clocks.items()}
    return render_template("tickets/ticket.html", ticket=ticket, messages=messages,
                           attachments=attachments, audit=audit, staff=staff,
                           clocks=clocks, explained=explained,
                           guarantee=wording.guarantee(ticket.priority),
                           effects=wording.action_effects(clocks, staff=staff),
                           audit_action=wording.audit_action, audit_field=wording.audit_field,
                           forms=_action_forms(ticket, submitted),
                           outages=listed, outage_forms=_outage_forms(ticket, listed, outage_form),
                           manage_outages=manages_outages(current_user),
                           zone=viewer_zone().key, now=now), status


@bp.get("/tickets")
@role_required(*EVERYONE)
def index() -> ResponseReturnValue:
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before <= MAX_ROW_ID:
        before = None
    tickets = queries.ticket_page(current_user, before_id=before, limit=PAGE_SIZE + 1)
    next_before = tickets[PAGE_SIZE - 1].id if len(tickets) > PAGE_SIZE else None
    tickets = tickets[:PAGE_SIZE]
    now = now_utc()
    clocks = {ticket.id: [(metric, clock.status.value, wording.clock_in_words(clock))
                          for metric, clock in ticket_clocks(ticket, now=now).items()]
              for ticket in tickets}
    return render_template("tickets/index.html", tickets=tickets, clocks=clocks,
                           next_before=next_before, paged=before is not None)


@bp.get("/queue")
@role_required(*TICKET_STAFF)
def queue() -> ResponseReturnValue:
    """The open tickets by urgency, filtered from the query string and paged by a cursor.

    With `fragment=rows` only the rows and the page links are sent: the page's script swaps
    them in every QUEUE_REFRESH_SECONDS, keeping its filters, page and scroll.
    """
    now = now_utc()
    form = QueueFilterForm(formdata=request.args)
    form.set_choices(queries.queue_organisations(), queries.priority_codes())
    valid = form.validate()
    after = queries.QueueCursor.decode(request.args.get("after", ""))
    cursor_error = bool(request.args.get("after")) and after is None
    listed = queries.open_queue(current_user, now=now, filters=form.filters(current_user),
                                after=after, limit=PAGE_SIZE + 1)
    tickets = listed[:PAGE_SIZE]
    boundaries: dict = {}
    context = {
        "form": form, "tickets": tickets, "now": now,
        "countdowns": {t.id: queue_countdown(t, now=now, boundaries=boundaries)
                       for t in tickets},
        "words": countdown_words(), "countdown_time": countdown_time,
        "countdown_due": countdown_due,
        "status_labels": {status: status_label(status) for status in Status},
        "filter_args": form.query_args(), "paged": after is not None,
        "next_cursor": queries.QueueCursor.after(tickets[-1]).encode()
        if len(listed) > PAGE_SIZE else None,
        "refresh_seconds": current_app.config["QUEUE_REFRESH_SECONDS"],
        "cursor_error": cursor_error,
    }
    status = 200 if valid and not cursor_error else 400
    if request.args.get("fragment") == "rows":
        return (render_template("tickets/_queue_fragment.html", **context), status,
                {"X-Queue-Fragment": "rows", "Cache-Control": "no-store"})
    return render_template("tickets/queue.html", **context), status


@bp.route("/tickets/new", methods=["GET", "POST"])
@role_required(*CLIENTS)
def new() -> ResponseReturnValue:
    now = now_utc()
    contracts = [c for c in contract_queries.contracts_for(current_user) if c.is_active_at(now)]
    form = NewTicketForm()
    form.set_contracts(contracts)
    if form.validate_on_submit():
        contract = contract_queries.get_contract(current_user, form.contract.data)
        with committed() as opening:
            ticket = services.open_ticket(
                actor=current_user, contract=contract, priority_code=form.priority_code,
                title=form.title.data, description=form.description.data, now=now,
                attachment=opening.hold(_upload(form.attachment.data)))
        if opening.refusal is None:
            flash(_("Incident %(number)s recorded.", number=ticket.number), "success")
            return redirect(url_for("tickets.show", number=ticket.number))
        _apply_domain_error(form, opening.refusal)
    status = 400 if form.is_submitted() else 200
    guarantees = {contract.reference: [wording.guarantee(priority)
                                       for priority in contract.current_version.priorities]
                  for contract in contracts}
    return render_template("tickets/new.html", form=form, contracts=contracts,
                           guarantees=guarantees), status


@bp.get("/tickets/<number>")
@role_required(*EVERYONE)
def show(number: str) -> ResponseReturnValue:
    return _render_ticket(_ticket_or_404(number))


@bp.post("/tickets/<number>/actions/<action>")
@role_required(*TICKET_ACTORS)
def act(number: str, action: str) -> ResponseReturnValue:
    ticket = _ticket_or_404(number, for_update=True)
    try:
        action = Action(action)
    except ValueError:
        abort(404)
    form_class, arguments = ACTION_FORMS[action]
    form = form_class()
    forms = _action_forms(ticket, (action, form)) if action in allowed_actions(
        ticket.status, current_user.role) else {}
    if action.value not in forms:
        flash(_("You cannot %(action)s this ticket now.", action=action.value), "error")
        return _render_ticket(ticket, status=409)
    if form.validate_on_submit():
        with committed() as acting:
            kwargs = arguments(form)
            upload = form.attachment.data if "attachment" in form else None
            if (attachment := acting.hold(_upload(upload))) is not None:
                kwargs["attachment"] = attachment
            services.ACTIONS[action](ticket, actor=current_user, now=now_utc(), **kwargs)
        if acting.refusal is None:
            flash(str(ACTION_DONE[action]), "success")
            return redirect(url_for("tickets.show", number=ticket.number))
        ticket = _refused(form, acting.refusal, number)
    return _render_ticket(ticket, (action, form), status=400)


@bp.get("/tickets/<number>/attachments/<int:attachment_id>")
@role_required(*EVERYONE)
def attachment(number: str, attachment_id: int) -> Response:
    ticket = _ticket_or_404(number)
    found = queries.get_attachment(current_user, ticket, attachment_id)
    if found is None:
        abort(404)
    path = stored_path(Path(current_app.config["ATTACHMENT_DIR"]), found.storage_name)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=served_type(found.content_type), as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/tickets/<number>/outages")
@role_required(*TICKET_STAFF)
def record_outage(number: str) -> ResponseReturnValue:
    ticket = _ticket_or_404(number, for_update=True)
    form = RecordOutageForm()
    if form.validate_on_submit():
        with committed() as recording:
            outages.record_outage(ticket, actor=current_user, started_at=form.started_at.data,
                                  ended_at=form.ended_at.data, now=now_utc())
        if recording.refusal is None:
            flash(_("Outage recorded."), "success")
            return redirect(url_for("tickets.show", number=ticket.number, _anchor="outages"))
        ticket = _refused(form, recording.refusal, number)
    return _render_ticket(ticket, status=400, outage_form=("record", form))


@bp.post("/tickets/<number>/outages/<int:outage_id>/<change>")
@role_required(*TICKET_STAFF)
def change_outage(number: str, outage_id: int, change: str) -> ResponseReturnValue:
    ticket = _ticket_or_404(number, for_update=True)
    outage = queries.get_outage(ticket, outage_id)
    if outage is None or change not in OUTAGE_CHANGES:
        abort(404)
    form_class, use_case, done = OUTAGE_CHANGES[change]
    form = form_class()
    if form.validate_on_submit():
        with committed() as changing:
            use_case(outage, form, now_utc())
        if changing.refusal is None:
            flash(str(done), "success")
            return redirect(url_for("tickets.show", number=ticket.number, _anchor="outages"))
        ticket = _refused(form, changing.refusal, number)
    return _render_ticket(ticket, status=400, outage_form=(f"{change}-{outage_id}", form))
