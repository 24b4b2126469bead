"""Wrong passwords slow down, then lock, per account and per client address; the counters are
rows of the database, so every worker and host sees the same ones (tests/accounts/test_gunicorn.py
proves it with two workers). The owner of a locked account is told by mail."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helpdesk.accounts import throttle
from helpdesk.accounts.models import AccountMail, AccountMailKind, User
from helpdesk.accounts.services import TooManyAttempts, authenticate
from helpdesk.escalation.jobs import run_sender
from helpdesk.extensions import db
from tests import factories
from tests.conftest import TEST_START, csrf_token

OFFICE = "203.0.113.7"


@pytest.fixture
def at(clock):
    """The clock, frozen; `at(seconds)` moves it to that many seconds after TEST_START."""
    def move(seconds: float = 0):
        clock.freeze(TEST_START + timedelta(seconds=seconds))
        return TEST_START + timedelta(seconds=seconds)
    move(0)
    return move


def _try(email, password, *, now, address=OFFICE):
    """'ok', 'wrong' or the seconds to wait, as one attempt ends; committed like a request."""
    try:
        user = authenticate(email, password, now=now, address=address)
    except TooManyAttempts as refused:
        db.session.rollback()
        return refused.seconds
    db.session.commit()
    return "ok" if user else "wrong"


def test_delays_grow_after_five_failures_then_the_account_locks(app, world, at):
    with app.app_context():
        answers = []
        second = 0
        for _ in range(10):
            answers.append(_try(world.client, "guess", now=at(second)))
            # Each try waits exactly as long as it was told to, or goes at once.
            until = throttle.refused_until([(throttle.account_key(world.client),
                                             throttle.ACCOUNT)], now=at(second))
            second = second if until is None else (until - TEST_START).total_seconds()
        assert answers == ["wrong"] * 10
        assert second - 0 == 1 + 2 + 4 + 8 + 15 * 60  # the delays, then the lock
        assert _try(world.client, factories.PASSWORD, now=at(second - 1)) == 1
        assert _try(world.client, factories.PASSWORD, now=at(second)) == "ok"


def test_an_attempt_inside_a_delay_is_refused_unheard_and_not_counted(app, world, at):
    with app.app_context():
        for _ in range(6):
            _try(world.client, "guess", now=at(0))  # five are free: the sixth sets a delay
        assert _try(world.client, factories.PASSWORD, now=at(0.5)) == 1
        failures = db.session.scalar(sa.select(throttle.Throttle.failures).where(
            throttle.Throttle.key == throttle.account_key(world.client)))
        assert failures == 6
        assert _try(world.client, factories.PASSWORD, now=at(1)) == "ok"


def test_a_locked_account_refuses_even_the_right_password_until_the_lock_ends(app, world, at):
    with app.app_context():
        second = 0
        for _ in range(10):
            _try(world.client, "guess", now=at(second))
            second += 60
        lock_end = second - 60 + 15 * 60
        assert _try(world.client, factories.PASSWORD, now=at(lock_end - 30)) == 30
        assert _try(world.client, factories.PASSWORD, now=at(lock_end)) == "ok"


def test_each_lock_lasts_twice_as_long_as_the_one_before(app, world, at):
    with app.app_context():
        second, locks = 0, []
        for _ in range(3):
            for _ in range(10):
                _try(world.client, "guess", now=at(second))
                second += 60
            until = throttle.refused_until([(throttle.account_key(world.client),
                                             throttle.ACCOUNT)], now=at(second - 60))
            locks.append(until - at(second - 60))
            second = (until - TEST_START).total_seconds()
        assert locks == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]


def test_signing_in_clears_the_account_failures(app, world, at):
    with app.app_context():
        for second in range(5):
            _try(world.client, "guess", now=at(second * 60))
        assert _try(world.client, factories.PASSWORD, now=at(300)) == "ok"
        answers = [_try(world.client, "guess", now=at(360 + second * 60)) for second in range(5)]
        assert answers == ["wrong"] * 5
        assert _try(world.client, factories.PASSWORD, now=at(700)) == "ok"


def test_failures_are_forgotten_after_a_quiet_day(app, world, at):
    with app.app_context():
        for second in range(9):
            _try(world.client, "guess", now=at(second * 60))
        day_later = 8 * 60 + 24 * 3600 + 1
        assert _try(world.client, "guess", now=at(day_later)) == "wrong"
        assert _try(world.client, factories.PASSWORD, now=at(day_later + 1)) == "ok"


def test_unknown_addresses_are_throttled_like_accounts(app, world, at):
    with app.app_context():
        for second in range(6):
            _try("nobody@shop.example", "guess", now=at(second * 0.1))
        assert _try("nobody@shop.example", "guess", now=at(0.6)) == 1


def test_one_address_guessing_many_accounts_is_slowed_after_twenty_failures(app, world, at):
    with app.app_context():
        answers = [_try(f"user{n}@shop.example", "guess", now=at(0)) for n in range(22)]
        assert answers == ["wrong"] * 21 + [1]
        # Someone else, elsewhere, signs in at once.
        assert _try(world.client, factories.PASSWORD, now=at(0), address="198.51.100.1") == "ok"


def test_an_address_is_locked_after_a_hundred_failures(app, world, at):
    with app.app_context():
        second = 0
        for n in range(100):
            assert _try(f"user{n}@shop.example", "guess", now=at(second)) == "wrong"
            second += 31
        assert _try(world.client, factories.PASSWORD, now=at(second)) == 15 * 60 - 31


def test_an_ipv6_client_is_counted_by_its_slash_64():
    assert throttle.address_key("2001:db8:1:2:aaaa::1") == throttle.address_key("2001:db8:1:2::9")
    assert throttle.address_key("2001:db8:1:3::1") != throttle.address_key("2001:db8:1:2::1")
    assert throttle.address_key("::ffff:203.0.113.7") == throttle.address_key("203.0.113.7")
    assert throttle.address_key("not an address") == "address:unknown"


def test_the_lock_queues_one_mail_to_the_owner(app, world, at):
    with app.app_context():
        for second in range(12):
            _try(world.client, "guess", now=at(second * 60))
        mails = db.session.scalars(sa.select(AccountMail)).all()
        assert [(m.user.email, m.kind, m.until) for m in mails] == [
            (world.client, AccountMailKind.ACCOUNT_LOCKED, at(9 * 60) + timedelta(minutes=15))]


def test_no_mail_when_an_unknown_address_locks(app, world, at):
    with app.app_context():
        for second in range(10):
            _try("nobody@shop.example", "guess", now=at(second * 60))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountMail)) == 0


@pytest.fixture
def app_config(mailbox):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mailbox.port, "SMTP_STARTTLS": False,
            "BASE_URL": "https://helpdesk.example.test"}


def test_the_lock_mail_says_until_when_in_the_owner_language_and_zone(app, world, at, mailbox):
    with app.app_context():
        db.session.execute(sa.update(User).where(User.email == world.client)
                           .values(language="fr", timezone="Europe/Paris"))
        for minute in range(10):
            _try(world.client, "guess", now=at(minute * 60))
    assert run_sender(app, now=at(10 * 60)) == (1, 0)
    [mail] = mailbox.messages()
    assert mail["To"] == world.client
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_content()
    # The client reads French in Paris: locked at 09:09 UTC for 15 min, 10:24 there.
    assert "verrouill" in mail["Subject"].lower()
    assert "10:24" in body
    assert "https://helpdesk.example.test/password/forgot" in body


def _sign_in(client, email, password, address=OFFICE):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_the_sign_in_page_says_when_to_try_again(app, client, world, at):
    for _ in range(6):
        _sign_in(client, world.client, "guess")
    response = _sign_in(client, world.client, factories.PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts. Try again in 1 second." in response.get_data(as_text=True)


def test_the_sign_in_page_gives_the_time_a_lock_ends(app, client, world, at):
    for n in range(10):
        at(n * 60)
        _sign_in(client, world.client, "guess")
    page = _sign_in(client, world.client, factories.PASSWORD).get_data(as_text=True)
    # The visitor is not signed in: times read in Paris (09:09 UTC + 15 min).
    assert "Too many attempts. Try again after" in page
    assert "10:24" in page


def test_a_failure_recorded_by_another_worker_a_moment_later_refuses_nothing(app, world, at):
    """Workers read the clock when their request begins: a free failure stamped after that
    instant is no delay for a request already under way."""
    with app.app_context():
        _try(world.client, "guess", now=at(1))
        assert _try(world.client, factories.PASSWORD, now=at(0)) == "ok"
