"""Throttling and revocation hold across workers: the app served by gunicorn with two worker
processes, on a free loopback port, against this run's database (SQLite file or PostgreSQL).

Which worker answered each request is read from gunicorn's access log (`%(p)s` is the pid), so
the test knows the attempts really were spread over both. Nothing here is shared in a
process's memory: the counters, the sessions and the tokens are rows."""
import http.cookiejar
import itertools
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from helpdesk.accounts import throttle
from helpdesk.accounts.models import AccountMail, AccountMailKind, Throttle
from helpdesk.extensions import db
from tests import factories
from tests.api.helpers import api_token

pytestmark = pytest.mark.real_commits

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WRONG = "Wrong e-mail or password."
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(app, tmp_path):
    port = _free_port()
    log, output = tmp_path / "access.log", tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "HELPDESK_ENV": "development",
           "ATTACHMENT_DIR": str(tmp_path / "attachments"), "MAIL_DIR": str(tmp_path / "mail")}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--access-logfile", str(log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
         "--error-logfile", str(output), "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/login", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    pytest.fail("gunicorn did not start:\n" + output.read_text())
                time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A cookie jar and a way to post forms with their CSRF token; answers are never followed."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)
        self.opener.addheaders = [("Accept-Language", "en")]

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict, token_from: str) -> tuple[int, str]:
        status, page = self.get(token_from)
        token = CSRF.search(page).group(1)
        body = urllib.parse.urlencode({**data, "csrf_token": token}).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def api_status(base: str, token: str) -> int:
    request = urllib.request.Request(base + "/api/v1/tickets",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def workers(log: Path, method: str, path: str, *, after_line: int = 0) -> set[str]:
    return {line.split()[0] for line in log.read_text().splitlines()[after_line:]
            if line.split()[1:3] == [method, path]}


def on_both_workers(call, log: Path, method: str, path: str) -> list:
    """Call `call` in concurrent batches (a busy worker leaves the next request to the other)
    until both workers have answered one; every answer is returned."""
    start = len(log.read_text().splitlines())
    answers = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(20):
            answers += list(pool.map(lambda _: call(), range(8)))
            if len(workers(log, method, path, after_line=start)) == 2:
                return answers
    pytest.fail(f"{method} {path} never reached both workers")


def test_failed_sign_ins_are_counted_once_whichever_worker_answers(app, world, tmp_path):
    guesses = itertools.count()
    with gunicorn(app, tmp_path) as (base, log):
        def attempt() -> tuple[int, str]:
            return Browser(base).post("/login", {"email": f"guess{next(guesses)}@shop.example",
                                                 "password": "guess"}, "/login")

        answers = on_both_workers(attempt, log, "POST", "/login")
        while len(answers) < 30:
            answers.append(attempt())

    wrong = sum(1 for status, page in answers if status == 200 and WRONG in page)
    refused = sum(1 for status, _ in answers if status == 429)
    assert wrong + refused == len(answers)
    with app.app_context():
        counted = db.session.scalar(sa.select(Throttle.failures).where(
            Throttle.key == throttle.address_key("127.0.0.1")))
    assert counted == wrong > throttle.ADDRESS.free
    assert refused > 0


def test_a_lock_holds_on_every_worker_and_is_mailed_once(app, world, tmp_path):
    """The account is one failure short of its lock (the last one an hour ago, on the machine's
    clock, which the workers read). Racing workers lock it once; then none lets anybody in."""
    with app.app_context():
        db.session.add(Throttle(key=throttle.account_key(world.client), failures=9, locks=0,
                                last_failure_at=datetime.now(UTC) - timedelta(hours=1)))
        db.session.commit()
    with gunicorn(app, tmp_path) as (base, log):
        def attempt(password: str) -> int:
            return Browser(base).post("/login", {"email": world.client, "password": password},
                                      "/login")[0]

        guesses = on_both_workers(lambda: attempt("guess"), log, "POST", "/login")
        right_password = on_both_workers(lambda: attempt(factories.PASSWORD), log, "POST",
                                         "/login")
    assert 200 in guesses and set(guesses) <= {200, 429} and set(right_password) == {429}
    with app.app_context():
        mails = db.session.scalars(sa.select(AccountMail.kind)).all()
    assert mails == [AccountMailKind.ACCOUNT_LOCKED]


def test_a_password_change_signs_out_every_worker_and_revokes_tokens(app, world, tmp_path):
    token = api_token(app, world.tech)
    with gunicorn(app, tmp_path) as (base, log):
        laptop, phone = Browser(base), Browser(base)
        for browser in (laptop, phone):
            status, _ = browser.post("/login", {"email": world.tech,
                                                "password": factories.PASSWORD}, "/login")
            assert status == 302
        before = on_both_workers(lambda: laptop.get("/queue")[0], log, "GET", "/queue")
        tokens_before = on_both_workers(lambda: api_status(base, token), log, "GET",
                                        "/api/v1/tickets")
        status, _ = phone.post("/account/password", {
            "current_password": factories.PASSWORD, "new_password": "a new long passphrase",
            "confirm": "a new long passphrase"}, "/account/password")
        assert status == 302
        after = on_both_workers(lambda: laptop.get("/queue")[0], log, "GET", "/queue")
        tokens_after = on_both_workers(lambda: api_status(base, token), log, "GET",
                                       "/api/v1/tickets")
        phone_after = {phone.get("/queue")[0] for _ in range(4)}

    assert set(before) == {200} and set(tokens_before) == {200}
    assert set(after) == {302}
    # A revoked token is a failed one: from the same address, past 20 of them, 429 answers.
    assert set(tokens_after) <= {401, 429} and tokens_after[:8] == [401] * 8
    assert phone_after == {200}  # the browser that changed it got a fresh session
