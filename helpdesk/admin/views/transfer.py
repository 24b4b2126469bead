"""Import and export in the browser (/admin/transfer): the same document, validation and apply
step as `flask helpdesk import` and `flask helpdesk export`."""
import json

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from helpdesk.admin.forms.transfer import IMPORT_MAX_BYTES, ImportForm
from helpdesk.admin.views.blueprint import bp
from helpdesk.clock import now_utc
from helpdesk.contracts.exporter import export_document
from helpdesk.contracts.importer import apply_import
from helpdesk.contracts.schema import UnreadableDocument, parse_document, validate_import
from helpdesk.extensions import db
from helpdesk.formatting import filesize, viewer_zone
from helpdesk.web.downloads import download


@bp.get("/transfer")
def transfer() -> ResponseReturnValue:
    return render_template("admin/transfer/index.html", form=ImportForm(),
                           limit=filesize(IMPORT_MAX_BYTES))


@bp.get("/transfer/export")
def export() -> ResponseReturnValue:
    document = export_document()
    day = now_utc().astimezone(viewer_zone()).date().isoformat()
    data = json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"
    return download(data, "application/json", f"helpdesk-export-{day}.json")


def _refusal(form: ImportForm, message: str) -> ResponseReturnValue:
    form.document.errors = [*form.document.errors, message]
    return _page(form, status=422)


def _page(form: ImportForm, *, status: int = 200, **context: object) -> ResponseReturnValue:
    return render_template("admin/transfer/index.html", form=form,
                           limit=filesize(IMPORT_MAX_BYTES), **context), status


@bp.post("/transfer")
def import_document() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    raw = form.document.data.read(IMPORT_MAX_BYTES + 1)
    if len(raw) > IMPORT_MAX_BYTES:
        return _refusal(form, _("The file is larger than %(limit)s: nothing was imported.",
                                limit=filesize(IMPORT_MAX_BYTES)))
    try:
        document = parse_document(raw)
    except UnreadableDocument as error:
        return _refusal(form, _("This file is not a JSON document (%(reason)s): nothing was "
                                "imported.", reason=str(error)))
    plan, errors = validate_import(document)
    if plan is None:
        return _page(form, status=422, errors=errors)
    checking = bool(form.check.data)
    # A check applies the document inside a savepoint that is then undone: the report is the
    # import's own, and nothing stays.
    savepoint = db.session.begin_nested() if checking else None
    report = apply_import(plan, now=now_utc(), actor=current_user)
    if savepoint is not None:
        savepoint.rollback()
    else:
        db.session.commit()
    return _page(ImportForm(formdata=None), report=report, checked=checking)
