"""Billing pages: finance closes months and issues credit notes; clients read theirs."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from helpdesk.accounts.access import CLIENTS, FINANCE, role_required
from helpdesk.accounts.models import User
from helpdesk.billing import exports, queries
from helpdesk.billing.forms import (
    MONTH_MESSAGE,
    CloseMonthForm,
    IssueForm,
    IssueMonthForm,
)
from helpdesk.billing.models import CreditNote
from helpdesk.billing.services import (
    CloseSummary,
    ContractClosing,
    InvoiceReference,
    Outcome,
    close_month,
    issue_credit_note,
    issue_month,
)
from helpdesk.billing.settings import billing_settings
from helpdesk.clock import now_utc
from helpdesk.db import MAX_ROW_ID
from helpdesk.extensions import db
from helpdesk.formatting import money, month_label, viewer_zone
from helpdesk.month import Month, MonthError
from helpdesk.transaction import committed
from helpdesk.web.downloads import download
from helpdesk.web.errors import error_message
from helpdesk.web.months import month_in_query, refusal

bp = Blueprint("billing", __name__, url_prefix="/billing")

# Flashed messages travel in the session cookie: a month of thousands of contracts is summed up.
FLASHED_RESULTS = 5
OUTCOME_CATEGORIES = {Outcome.DRAFTED: "success", Outcome.NOTHING_OWED: "info",
                      Outcome.ALREADY_ISSUED: "info", Outcome.NOT_ENDED: "error"}
PDF = "application/pdf"
# The page's rendering of the mention printed on notes outside the scope of VAT (the documents
# keep helpdesk.billing.wording's English text).
VAT_EXEMPT_MENTION = _l("Credits outside the scope of VAT: contractual penalties are "
                        "indemnities, not the consideration for a supply.")


@bp.context_processor
def billing_helpers() -> dict:
    return {"VAT_EXEMPT_MENTION": VAT_EXEMPT_MENTION,
            "error_message": error_message}


def previous_month() -> Month:
    """The last month that has ended where the viewer is: the one usually closed."""
    return Month.of(now_utc(), viewer_zone()).previous()


def _month_in_path(text: str) -> Month:
    """The month of the address; a 404 saying how to write one when it is not a month."""
    try:
        return Month.parse(text)
    except MonthError as error:
        abort(404, str(refusal(error, MONTH_MESSAGE)))


def _actor() -> User:
    return current_user._get_current_object()


def _note_or_404(note_id: int) -> CreditNote:
    note = queries.credit_note(current_user, note_id) if 0 < note_id <= MAX_ROW_ID else None
    if note is None:
        abort(404)
    return note


def _note_filename(note: CreditNote, suffix: str = "") -> str:
    if note.is_issued:
        return f"{note.number}{suffix}.pdf"
    return f"draft-{note.contract_reference}-{note.month}{suffix}.pdf"


# -- finance: the month --------------------------------------------------------------------------


def _month_page(month: Month, *, close_form: CloseMonthForm | None = None,
                status: int = 200) -> tuple[str, int]:
    page = queries.month_page(str(month), at=now_utc(), after=request.args.get("after") or None)
    if close_form is None:
        close_form = CloseMonthForm(formdata=None, month=str(month))
    issue_form = IssueMonthForm(formdata=None, month=str(month), drafts=page.drafts)
    return render_template("billing/month.html", page=page, month=month,
                           close_form=close_form, issue_form=issue_form), status


@bp.get("/")
@role_required(*FINANCE)
def index() -> ResponseReturnValue:
    month, status = month_in_query(previous_month(), MONTH_MESSAGE)
    return _month_page(month, status=status)


@bp.get("/<month>/<reference>")
@role_required(*FINANCE)
def contract_month(month: str, reference: str) -> ResponseReturnValue:
    return _preview_page(_month_in_path(month), reference)


def _preview_page(month: Month, reference: str, *, close_form: CloseMonthForm | None = None,
                  status: int = 200) -> tuple[str, int]:
    preview = queries.contract_preview(reference, str(month), at=now_utc())
    if preview is None:
        abort(404)
    if close_form is None:
        close_form = CloseMonthForm(formdata=None, month=str(month), contract=reference)
    return render_template("billing/preview.html", preview=preview, month=month,
                           computation=preview.computation, close_form=close_form,
                           issue_form=IssueForm(formdata=None)), status


def _outcome_count(outcome: str, count: int) -> str:
    texts = {
        Outcome.DRAFTED: ngettext("%(num)d drafted", "%(num)d drafted", count),
        Outcome.NOTHING_OWED: ngettext("%(num)d nothing owed", "%(num)d nothing owed", count),
        Outcome.ALREADY_ISSUED: ngettext("%(num)d already issued", "%(num)d already issued", count),
        Outcome.NOT_ENDED: ngettext("%(num)d month not ended", "%(num)d month not ended", count),
    }
    return texts.get(outcome, f"{count} {outcome}")


def _closing_message(result: ContractClosing, month: str) -> str:
    """One contract's outcome in the reader's language (the service's `message` is English, for
    the command line)."""
    contract, label = result.contract_reference, month_label(month)
    note = (db.session.get(CreditNote, result.credit_note_id)
            if result.credit_note_id is not None else None)
    if result.outcome == Outcome.DRAFTED and note is not None:
        return _("%(contract)s: draft credit note of %(amount)s excl. VAT for %(month)s.",
                 contract=contract, amount=money(result.total_excl_vat, note.currency),
                 month=label)
    if result.outcome == Outcome.NOTHING_OWED:
        return _("%(contract)s: nothing is owed for %(month)s, so no credit note.",
                 contract=contract, month=label)
    if result.outcome == Outcome.ALREADY_ISSUED and note is not None:
        return _("%(contract)s: %(month)s already has credit note %(number)s, issued on "
                 "%(date)s; an issued note never changes, so nothing new was created.",
                 contract=contract, month=label, number=note.number,
                 date=format_date(note.issue_date, "d MMM y"))
    if result.refusal is not None:
        return f"{contract}: {error_message(result.refusal)}"
    return result.message


def _flash_closing(summary: CloseSummary) -> None:
    results = summary.results
    if len(results) != 1:
        counts = ", ".join(_outcome_count(outcome, summary.count(outcome))
                           for outcome in OUTCOME_CATEGORIES if summary.count(outcome))
        flash(ngettext("%(month)s closed for %(num)d contract: %(counts)s.",
                       "%(month)s closed for %(num)d contracts: %(counts)s.", len(results),
                       month=month_label(summary.month), counts=counts or _("none in force")),
              "success")
    # What needs a look first: the contracts not closed, then the drafts.
    notable = sorted((r for r in results if len(results) == 1
                      or r.outcome != Outcome.NOTHING_OWED),
                     key=lambda r: r.outcome != Outcome.NOT_ENDED)
    for result in notable[:FLASHED_RESULTS]:
        flash(_closing_message(result, summary.month),
              OUTCOME_CATEGORIES.get(result.outcome, "info"))
    if len(notable) > FLASHED_RESULTS:
        flash(_("… and %(num)d more: see the table.", num=len(notable) - FLASHED_RESULTS), "info")


@bp.post("/close")
@role_required(*FINANCE)
def close() -> ResponseReturnValue:
    form = CloseMonthForm()
    reference = form.contract.data or None
    try:
        month = Month.parse(form.month.data)
    except MonthError:
        month = None
    if not form.validate_on_submit():
        if month is not None and reference:
            return _preview_page(month, reference, close_form=form, status=400)
        if month is None:
            month = previous_month()
            form.month.data = str(month)
        return _month_page(month, close_form=form, status=400)
    back = (url_for("billing.contract_month", month=str(month), reference=reference)
            if reference else url_for("billing.index", month=str(month)))
    invoice = InvoiceReference(form.invoice_number.data or None, form.invoice_date.data)
    with committed() as closing:
        summary = close_month(str(month), at=now_utc(), actor=_actor(),
                              contract_reference=reference, invoice=invoice,
                              seller=billing_settings(current_app.config).seller,
                              on_batch=db.session.commit)
    if closing.refusal is not None:
        # Closing commits a batch at a time and lets go of what it loaded: what was signed in is
        # reloaded by the next request, so the message goes there.
        flash(_("Not closed: %(reason)s", reason=error_message(closing.refusal)), "error")
        return redirect(back)
    _flash_closing(summary)
    return redirect(back)


@bp.post("/issue")
@role_required(*FINANCE)
def issue_all() -> ResponseReturnValue:
    form = IssueMonthForm()
    if not form.validate_on_submit():
        flash(_("Nothing issued: the form expired or was altered. Review the drafts and try "
                "again."), "error")
        return redirect(url_for("billing.index"))
    month = Month.parse(form.month.data)
    back = url_for("billing.index", month=str(month))
    if queries.draft_count(str(month)) != form.drafts.data:
        flash(_("Nothing issued: the drafts of %(month)s changed since the page was shown. "
                "Review them and issue again.", month=month_label(month)), "error")
        return redirect(back)
    with committed() as issuing:
        numbers = issue_month(str(month), actor=_actor(), now=now_utc(),
                              settings=billing_settings(current_app.config),
                              on_batch=db.session.commit)
    if issuing.refusal is not None:
        flash(_("Nothing more issued: %(reason)s", reason=error_message(issuing.refusal)),
              "error")
        return redirect(back)
    if not numbers:
        flash(_("No draft of %(month)s was left to issue.", month=month_label(month)), "info")
    elif len(numbers) == 1:
        flash(_("Credit note %(number)s issued.", number=numbers[0]), "success")
    else:
        flash(_("%(num)d credit notes issued, %(first)s to %(last)s.", num=len(numbers),
                first=numbers[0], last=numbers[-1]), "success")
    return redirect(back)


@bp.post("/credit-notes/<int:note_id>/issue")
@role_required(*FINANCE)
def issue(note_id: int) -> ResponseReturnValue:
    note = _note_or_404(note_id)
    back = url_for("billing.credit_note", note_id=note.id)
    if not IssueForm().validate_on_submit():
        flash(_("Not issued: the form expired. Reload the page and try again."), "error")
        return redirect(back)
    with committed() as issuing:
        number = issue_credit_note(note.id, actor=_actor(), now=now_utc(),
                                   settings=billing_settings(current_app.config)).number
    if issuing.refusal is not None:
        flash(_("Not issued: %(reason)s", reason=error_message(issuing.refusal)), "error")
    else:
        flash(_("Credit note %(number)s issued.", number=number), "success")
    return redirect(back)


@bp.get("/<month>/credit-notes.csv")
@role_required(*FINANCE)
def month_csv(month: str) -> Response:
    month = str(_month_in_path(month))
    return download(exports.csv_text(exports.notes_of_month(month)).encode(),
                     "text/csv; charset=utf-8", f"credit-notes-{month}.csv")


# -- credit notes: finance and the client they were issued to ------------------------------------


@bp.get("/credit-notes/<int:note_id>")
@role_required(*CLIENTS, *FINANCE)
def credit_note(note_id: int) -> ResponseReturnValue:
    note = _note_or_404(note_id)
    return render_template("billing/credit_note.html", note=note,
                           issue_form=IssueForm(formdata=None))


@bp.get("/credit-notes/<int:note_id>.pdf")
@role_required(*CLIENTS, *FINANCE)
def credit_note_pdf(note_id: int) -> Response:
    note = _note_or_404(note_id)
    return download(exports.render_pdf(note, draft_ok=True), PDF, _note_filename(note))


@bp.get("/credit-notes/<int:note_id>/factur-x.pdf")
@role_required(*CLIENTS, *FINANCE)
def credit_note_facturx(note_id: int) -> Response:
    note = _note_or_404(note_id)
    if not note.is_issued:  # a draft has no number: it is no invoice document yet
        abort(404)
    return download(exports.render_facturx(note), PDF, _note_filename(note, "-factur-x"))


# -- clients -------------------------------------------------------------------------------------


@bp.get("/my/credit-notes")
@role_required(*CLIENTS)
def my_credit_notes() -> ResponseReturnValue:
    return render_template("billing/my_credit_notes.html",
                           notes=queries.client_credit_notes(current_user.organisation_id))
