"""Eight processes issuing the same month's drafts at once number each exactly once, gap-free.

PostgreSQL only: there, an issue locks its draft (FOR UPDATE) and then the year's counter row,
so concurrent issuers wait for each other instead of colliding. Each subprocess is
`python -m tests.billing.issuer` on this run's schema: half run `issue_month` (what
`flask billing issue` does), half issue the drafts one by one in their own shuffled order.
"""
import json
import os
import subprocess
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from helpdesk.audit.models import AuditEntry
from helpdesk.billing import services
from helpdesk.billing.models import CreditNote, CreditNoteCounter, CreditNoteStatus
from helpdesk.billing.services import close_month, issue_credit_note
from helpdesk.extensions import db
from tests.billing.conftest import paris, settings
from tests.billing.issuer import drafts, start

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="PostgreSQL only (set TEST_DATABASE_URL): issuers wait for each other on row "
               "locks; SQLite serialises every writer"),
    # The issuers are other processes: they see only the drafts the test committed.
    pytest.mark.real_commits,
]

DRAFTS = 40
ISSUE_AT = paris(2026, 11, 3, 10, 0)
TIMEOUT = 120


@contextmanager
def together(database, *commands: list[str]):
    """Start the processes, release them at the same moment, yield them; never leave one behind."""
    with ExitStack() as stack:
        processes = [stack.enter_context(start(database["url"], *command, "--wait"))
                     for command in commands]
        try:
            for process in processes:  # each has built its app and waits on stdin
                line = process.stdout.readline()
                assert line.strip() == "ready", line + process.stderr.read()
            for process in processes:
                process.stdin.write("go\n")
                process.stdin.flush()
            yield processes
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=TIMEOUT)
    # A serialization failure or a deadlock would surface here as a traceback.
    assert process.returncode == 0, err
    assert "deadlock" not in err.lower() and "serializ" not in err.lower(), err
    return json.loads(out.splitlines()[-1])


def test_eight_issuers_at_once_number_every_draft_once_without_gaps(app, database):
    with app.app_context():
        ids = drafts(count=DRAFTS)
        assert len(ids) == DRAFTS

    at = ISSUE_AT.isoformat()
    commands = [["month", "--month", "2026-10", "--at", at] for _ in range(4)]
    commands += [["notes", "--at", at, "--seed", str(seed), *map(str, ids)] for seed in range(4)]
    with together(database, *commands) as processes:
        results = [finish(process) for process in processes]

    expected = [f"AV-2026-{n:04d}" for n in range(1, DRAFTS + 1)]
    with app.app_context():
        notes = list(db.session.scalars(sa.select(CreditNote).order_by(CreditNote.id)))
        assert [note.id for note in notes] == ids
        assert {note.status for note in notes} == {CreditNoteStatus.ISSUED}
        assert sorted(note.number for note in notes) == expected
        assert sorted(note.sequence_number for note in notes) == list(range(1, DRAFTS + 1))
        assert {(note.sequence_year, note.issue_date) for note in notes} == {
            (2026, date(2026, 11, 3))}
        assert db.session.get(CreditNoteCounter, 2026).last_number == DRAFTS
        # Issued exactly once: one audit entry per note, and no process took a number that
        # another one committed.
        issues = Counter(int(entity_id) for entity_id in db.session.scalars(
            sa.select(AuditEntry.entity_id).where(AuditEntry.entity == "credit_note",
                                                  AuditEntry.action == "issue")))
        assert issues == Counter(ids)
    reported = [number for result in results for number in result["numbers"]]
    assert sorted(reported) == expected
    # Every note a shuffled issuer did not issue was refused as issued by someone else.
    for result in results[4:]:
        assert len(result["numbers"]) + len(result["refused"]) == DRAFTS


def test_closing_again_while_the_draft_is_being_issued_never_loses_the_issued_note(
        app, monkeypatch):
    """Finance issues a draft while the month is closed again: the closing read the draft,
    the issue commits, then the closing replaces what it read. An issued note must survive."""
    with app.app_context():
        [note_id] = drafts(count=1)
    compute = services._compute

    def issue_meanwhile(inputs, month):
        # Another request, in a session of its own: it issues the draft the closing has read.
        with app.app_context():
            db.session.execute(sa.text("SET LOCAL lock_timeout = '3s'"))
            try:
                issue_credit_note(note_id, settings=settings(), actor=None, now=ISSUE_AT)
                db.session.commit()
            except OperationalError:  # the closing holds the note: the issue waits, as it should
                db.session.rollback()
        return compute(inputs, month)

    monkeypatch.setattr(services, "_compute", issue_meanwhile)
    with app.app_context():
        close_month("2026-10", seller=settings().seller, at=paris(2026, 11, 20, 9, 0),
                    on_batch=db.session.commit)
    with app.app_context():
        issued = list(db.session.scalars(sa.select(CreditNote.number).where(
            CreditNote.status == CreditNoteStatus.ISSUED)))
        counter = db.session.get(CreditNoteCounter, 2026)
        last = counter.last_number if counter else 0
        assert sorted(issued) == [f"AV-2026-{n:04d}" for n in range(1, last + 1)]
