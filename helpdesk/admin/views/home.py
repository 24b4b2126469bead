"""The administration's front page: where each part of the set-up is done."""
from flask import render_template
from flask.typing import ResponseReturnValue

from helpdesk.admin.views.blueprint import bp


@bp.get("/")
def index() -> ResponseReturnValue:
    return render_template("admin/index.html")
