"""Escalation mail leaves through a real SMTP server on loopback: once each, retried, never lost.

The server is aiosmtpd's `Controller`, in a thread of this process, on a free port of 127.0.0.1;
its handler keeps every envelope it accepts. Stopping it is "the mail server is down". The app is
built with the SMTP settings through `create_app`, as production reads them from its environment.
Time is passed to the sender (`now=`), never waited for.
"""
import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.accounts.models import User
from helpdesk.clock import now_utc
from helpdesk.escalation.jobs import run_sender, run_sweep
from helpdesk.escalation.models import Notification
from helpdesk.extensions import db
from tests.api.helpers import open_ticket

BASE_URL = "https://helpdesk.example.test"
MAIL_FROM = "helpdesk@provider.example"
OPENED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday; P1 is 24/7, GTI 2 h, GTR 8 h
HALF_GTI = OPENED + timedelta(hours=1)  # 50 %: the (unassigned) technicians and team leads
GTI_DUE = OPENED + timedelta(hours=2)  # the breach: team leads and the client
WARNED = ["lead@provider.example", "tech2@provider.example", "tech@provider.example"]
BREACH_TOLD = ["client@shop.example", "lead@provider.example"]
FIRST_RETRY = timedelta(seconds=30)


@pytest.fixture
def mail_settings(mailbox):
    """How the app reaches the mail server; tests of the folder transport parametrize this."""
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False}


@pytest.fixture
def app_config(tmp_path, mail_settings):
    """conftest's app, with this module's mail settings."""
    return {"BASE_URL": BASE_URL, "MAIL_FROM": MAIL_FROM, "MAIL_DIR": str(tmp_path / "mail"),
            **mail_settings}


@dataclass(frozen=True)
class Queued:
    id: int
    recipient: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def outbox(app) -> list[Queued]:
    with app.app_context():
        return [Queued(n.id, n.recipient.email, n.state.value, n.attempts, n.next_attempt_at,
                       n.sent_at, n.last_error)
                for n in db.session.scalars(sa.select(Notification).order_by(Notification.id))]


@pytest.fixture
def warned(app, world) -> str:
    """A P1 ticket whose GTI crossed 50 %: three mails queued. Returns its number."""
    number = open_ticket(app, requester=world.client, now=OPENED)
    run_sweep(app, now=HALF_GTI, name="test")
    return number


def test_sender_delivers_each_notification_once_to_its_recipient(app, mailbox, warned):
    assert run_sender(app, now=HALF_GTI) == (3, 0)
    assert mailbox.recipients() == [[address] for address in WARNED]
    assert {e.mail_from for e in mailbox.envelopes} == {MAIL_FROM}
    assert run_sender(app, now=HALF_GTI + timedelta(hours=1)) == (0, 0)
    assert len(mailbox.envelopes) == 3
    assert {(q.state, q.attempts, q.sent_at) for q in outbox(app)} == {("sent", 1, HALF_GTI)}


def test_breach_mail_goes_to_team_leads_and_the_client(app, mailbox, world):
    open_ticket(app, requester=world.client, now=OPENED)
    run_sweep(app, now=GTI_DUE, name="test")
    run_sender(app, now=GTI_DUE)
    assert mailbox.recipients() == [[address] for address in BREACH_TOLD]
    assert all("breached" in m["Subject"] for m in mailbox.messages())


def test_mail_names_the_ticket_and_the_clock_and_links_to_the_ticket(app, mailbox, warned):
    run_sender(app, now=HALF_GTI)
    for envelope, message in zip(mailbox.envelopes, mailbox.messages(), strict=True):
        assert message["To"] == envelope.rcpt_tos[0]
        assert warned in message["Subject"]
        assert "GTI" in message["Subject"] and "50 %" in message["Subject"]
        assert f"{BASE_URL}/tickets/{warned}" in message.get_content()


def test_message_id_is_stable_per_notification(app, mailbox, warned):
    run_sender(app, now=HALF_GTI)
    expected = {q.recipient: f"<notification-{q.id}@helpdesk.example.test>" for q in outbox(app)}
    assert {e.rcpt_tos[0]: m["Message-ID"]
            for e, m in zip(mailbox.envelopes, mailbox.messages(), strict=True)} == expected


def test_mail_stays_pending_with_backoff_when_server_is_down(app, mailbox, warned):
    mailbox.stop()
    assert run_sender(app, now=HALF_GTI) == (0, 3)
    queued = outbox(app)
    assert len(queued) == 3
    for q in queued:
        assert (q.state, q.attempts, q.sent_at) == ("pending", 1, None)
        assert q.next_attempt_at == HALF_GTI + FIRST_RETRY
        assert q.last_error and "Connection" in q.last_error


def test_mail_is_not_retried_before_its_next_attempt(app, mailbox, warned):
    mailbox.stop()
    run_sender(app, now=HALF_GTI)
    assert run_sender(app, now=HALF_GTI + FIRST_RETRY - timedelta(seconds=1)) == (0, 0)
    assert {q.attempts for q in outbox(app)} == {1}


def test_backoff_doubles_after_each_failure(app, mailbox, warned):
    mailbox.stop()
    run_sender(app, now=HALF_GTI)
    second = HALF_GTI + FIRST_RETRY
    assert run_sender(app, now=second) == (0, 3)
    assert {(q.attempts, q.next_attempt_at) for q in outbox(app)} == {
        (2, second + 2 * FIRST_RETRY)}


def test_backoff_never_exceeds_an_hour(app, mailbox, warned):
    mailbox.stop()
    at = last = HALF_GTI
    for _ in range(10):
        run_sender(app, now=at)
        last, at = at, outbox(app)[0].next_attempt_at
    assert {(q.attempts, q.next_attempt_at - last) for q in outbox(app)} == {
        (10, timedelta(hours=1))}


def test_mail_goes_out_exactly_once_when_server_comes_back(app, mailbox, warned):
    mailbox.stop()
    run_sender(app, now=HALF_GTI)
    mailbox.start()
    assert run_sender(app, now=HALF_GTI + FIRST_RETRY) == (3, 0)
    assert run_sender(app, now=HALF_GTI + timedelta(days=1)) == (0, 0)
    assert mailbox.recipients() == [[address] for address in WARNED]
    assert len({m["Message-ID"] for m in mailbox.messages()}) == 3
    assert {(q.state, q.attempts, q.sent_at, q.last_error) for q in outbox(app)} == {
        ("sent", 2, HALF_GTI + FIRST_RETRY, None)}


def test_title_with_a_unicode_line_separator_does_not_block_the_outbox(app, mailbox, world):
    open_ticket(app, requester=world.client, title="Shop down\u2028since 9:00", now=OPENED)
    open_ticket(app, requester=world.client, title="Checkout fails", now=OPENED)
    run_sweep(app, now=HALF_GTI, name="test")
    run_sender(app, now=HALF_GTI)
    assert len(mailbox.envelopes) == 6


@pytest.mark.parametrize("mail_settings", [{"SMTP_HOST": ""}], ids=["no SMTP_HOST"])
def test_without_smtp_host_each_mail_is_written_once_as_an_eml_file(app, warned):
    assert run_sender(app, now=HALF_GTI) == (3, 0)
    assert run_sender(app, now=HALF_GTI + timedelta(hours=1)) == (0, 0)
    files = sorted(Path(app.config["MAIL_DIR"]).iterdir())
    assert [p.suffix for p in files] == [".eml"] * 3  # no temporary file left behind
    messages = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in files]
    assert sorted(m["To"] for m in messages) == WARNED
    ids = {q.recipient: f"<notification-{q.id}@helpdesk.example.test>" for q in outbox(app)}
    for message in messages:
        assert message["Message-ID"] == ids[message["To"]]
        assert message["From"] == MAIL_FROM
        assert warned in message["Subject"]
        assert f"{BASE_URL}/tickets/{warned}" in message.get_content()


def _queue_mail_due_now(app, runner, world) -> None:
    """The CLI sends what is due by the wall clock: a ticket opened 70 minutes ago, swept now."""
    open_ticket(app, requester=world.client, now=now_utc() - timedelta(minutes=70))
    result = runner.invoke(args=["sla", "sweep"])
    assert result.exit_code == 0, result.output
    assert "3 notification(s) queued" in result.output


def test_send_mail_command_sends_what_is_due(app, runner, mailbox, world):
    _queue_mail_due_now(app, runner, world)
    result = runner.invoke(args=["sla", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "3 mail(s) sent, 0 failed" in result.output
    assert mailbox.recipients() == [[address] for address in WARNED]


def test_send_mail_command_says_what_will_be_retried_when_server_is_down(app, runner, mailbox,
                                                                          world):
    _queue_mail_due_now(app, runner, world)
    mailbox.stop()
    result = runner.invoke(args=["sla", "send-mail"])
    assert "0 mail(s) sent, 3 failed and will be retried" in result.output
    assert {q.state for q in outbox(app)} == {"pending"}


def _set_account(app, email_address: str, **values) -> None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email_address))
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def _mail_to(mailbox, address: str) -> email.message.EmailMessage:
    return next(m for m in mailbox.messages() if m["To"] == address)


def test_mail_is_worded_in_the_recipient_language_and_zone(app, mailbox, warned):
    _set_account(app, "tech@provider.example", language="fr", timezone="America/New_York")
    run_sender(app, now=HALF_GTI)
    french = _mail_to(mailbox, "tech@provider.example").get_content()
    english = _mail_to(mailbox, "tech2@provider.example").get_content()
    # 50 % of the GTI was used at 09:00 UTC: 04:00 in New York, 10:00 in Paris.
    assert "2 nov. 2026, 04:00" in french and "Hello" not in french
    assert "2 Nov 2026, 10:00" in english and english.startswith("Hello ")


def test_mail_tells_the_time_left_as_it_stands_when_sent(app, mailbox, warned):
    run_sender(app, now=HALF_GTI + timedelta(minutes=30))
    body = _mail_to(mailbox, "tech@provider.example").get_content()
    assert "30\N{NO-BREAK SPACE}min of service time is left" in body


def test_mail_gives_the_service_hours_in_the_recipient_language(app, mailbox, world):
    open_ticket(app, requester=world.client, priority="P3", now=OPENED)  # business hours, GTI 8 h
    run_sweep(app, now=OPENED + timedelta(hours=4), name="test")  # Monday 13:00 in Paris: 50 %
    _set_account(app, "tech@provider.example", language="fr")
    run_sender(app, now=OPENED + timedelta(hours=4))
    french = _mail_to(mailbox, "tech@provider.example").get_content()
    english = _mail_to(mailbox, "tech2@provider.example").get_content()
    assert "lun.–ven. 08:00–18:00" in french and "Mon–Fri" not in french
    assert "Mon–Fri 08:00–18:00" in english
