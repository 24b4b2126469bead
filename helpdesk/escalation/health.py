"""GET /healthz: is the database there, and has the scheduler swept lately? Read beside the
scheduler's heartbeat, which the sweep writes."""
import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from helpdesk.clock import now_utc
from helpdesk.escalation.queries import scheduler_health
from helpdesk.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return jsonify({"status": "failing", "database": f"unreachable: {type(error).__name__}",
                        "scheduler": None}), 503
    config = current_app.config
    health = scheduler_health(now=now_utc(), interval_seconds=config["SWEEP_INTERVAL_SECONDS"],
                              silent_intervals=config["SCHEDULER_SILENT_INTERVALS"])
    scheduler = {
        "status": "ok" if health.healthy else ("never swept" if health.last_sweep_at is None
                                               else "silent"),
        "last_sweep_at": health.last_sweep_at.isoformat() if health.last_sweep_at else None,
        "silent_seconds": (int(health.silent_for.total_seconds())
                           if health.silent_for is not None else None),
        "interval_seconds": config["SWEEP_INTERVAL_SECONDS"],
        "pending_mail": health.pending_mail,
    }
    body = {"status": "ok" if health.healthy else "failing", "database": "ok",
            "scheduler": scheduler}
    return jsonify(body), 200 if health.healthy else 503
