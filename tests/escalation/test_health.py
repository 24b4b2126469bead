"""The scheduler's heartbeat: /healthz and the admin status page say when it last swept.

The app's one clock is frozen at SWEPT and moved by the tests, never by sleeping.
"""
import socket
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk import create_app
from helpdesk.escalation.jobs import run_sender, run_sweep
from helpdesk.extensions import db
from tests.api.helpers import open_ticket, sign_in

SWEPT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def swept_clock(clock):
    clock.freeze(SWEPT)


def silent_limit(app) -> timedelta:
    return timedelta(seconds=app.config["SCHEDULER_SILENT_INTERVALS"]
                     * app.config["SWEEP_INTERVAL_SECONDS"])


def healthz(client):
    response = client.get("/healthz")
    return response.status_code, response.get_json()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_fails_before_any_sweep(client):
    status, body = healthz(client)
    assert status == 503
    assert body["status"] == "failing"
    assert body["database"] == "ok"
    assert body["scheduler"]["status"] == "never swept"
    assert body["scheduler"]["last_sweep_at"] is None


def test_healthz_is_ok_right_after_the_sweep_command(client, runner):
    result = runner.invoke(args=["sla", "sweep"])
    assert result.exit_code == 0, result.output
    status, body = healthz(client)
    assert status == 200
    assert (body["status"], body["scheduler"]["status"]) == ("ok", "ok")


def test_healthz_reports_the_last_sweep_and_the_pending_mail(app, client, world, clock):
    open_ticket(app, requester=world.client, now=SWEPT - timedelta(hours=1))  # 50 % of its GTI
    run_sweep(app)
    clock.freeze(SWEPT + timedelta(seconds=5))
    status, body = healthz(client)
    assert status == 200
    assert datetime.fromisoformat(body["scheduler"]["last_sweep_at"]) == SWEPT
    assert body["scheduler"]["silent_seconds"] == 5
    assert body["scheduler"]["pending_mail"] == 3


@pytest.mark.parametrize("after, status, word", [
    (timedelta(0), 200, "ok"),
    (timedelta(seconds=1), 503, "silent"),
    (timedelta(days=1), 503, "silent"),
], ids=["at the limit", "just after", "a day later"])
def test_healthz_turns_silent_after_several_intervals_without_a_sweep(app, client, clock, after,
                                                                      status, word):
    run_sweep(app)
    clock.freeze(SWEPT + silent_limit(app) + after)
    code, body = healthz(client)
    assert (code, body["scheduler"]["status"]) == (status, word)
    assert datetime.fromisoformat(body["scheduler"]["last_sweep_at"]) == SWEPT


def test_healthz_reports_zero_seconds_of_silence_right_after_a_sweep(app, client, clock):
    run_sweep(app)
    assert healthz(client)[1]["scheduler"]["silent_seconds"] == 0


def test_a_new_sweep_makes_healthz_ok_again(app, client, clock):
    run_sweep(app)
    clock.freeze(SWEPT + silent_limit(app) + timedelta(minutes=5))
    assert healthz(client)[0] == 503
    run_sweep(app)
    assert healthz(client)[0] == 200


def test_healthz_fails_when_the_database_is_unreachable(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"})
    try:
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["database"].startswith("unreachable")
    finally:
        with app.app_context():
            db.engine.dispose()


def _status_page(app, client) -> str:
    sign_in(app, client, "admin@provider.example")
    response = client.get("/admin/status")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_status_page_says_running_after_a_sweep(app, client, world, clock):
    run_sweep(app)
    page = _status_page(app, client)
    assert "Scheduler: running" in page


def test_status_page_says_silent_when_the_scheduler_stopped(app, client, world, clock):
    run_sweep(app)
    clock.freeze(SWEPT + silent_limit(app) + timedelta(minutes=1))
    page = _status_page(app, client)
    assert "Scheduler: silent" in page
    assert "not being recorded" in page


def test_status_page_says_never_swept_before_any_sweep(app, client, world, clock):
    assert "Scheduler: never swept" in _status_page(app, client)


def test_status_page_shows_the_mail_backlog_and_last_error(app, client, world, clock):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=closed_port(), SMTP_STARTTLS=False)
    open_ticket(app, requester=world.client, now=SWEPT - timedelta(hours=1))
    run_sweep(app)
    assert run_sender(app, now=SWEPT) == (0, 3)
    page = _status_page(app, client)
    assert "3 mails waiting" in page
    assert "Last error: ConnectionRefusedError" in page


@pytest.mark.parametrize("person", ["tech", "finance", "client"])
def test_status_page_is_hidden_from_other_roles(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    assert client.get("/admin/status").status_code == 404


def test_status_page_is_open_to_team_leads(app, client, world):
    sign_in(app, client, world.lead)
    assert client.get("/admin/status").status_code == 200
