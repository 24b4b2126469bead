"""`committed()`: the edge's one commit, or its rollback when the rules refuse the use case."""
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from helpdesk import transaction
from helpdesk.accounts.models import Organisation
from helpdesk.errors import Conflict
from helpdesk.extensions import db
from tests import factories
from tests.imports import imported_modules

CORE = ("helpdesk.db", "helpdesk.extensions", "helpdesk.errors", "helpdesk.clock",
        "helpdesk.month", "helpdesk.money", "helpdesk.config")


def organisations() -> list[str]:
    return list(db.session.scalars(sa.select(Organisation.code).order_by(Organisation.code)))


def test_the_block_is_committed_when_it_ends(app):
    with app.app_context():
        with transaction.committed() as attempt:
            factories.organisation(code="kept")
        assert attempt.refusal is None
    with app.app_context():
        assert organisations() == ["kept"]


def test_a_refusal_rolls_the_block_back_and_is_kept_not_raised(app):
    with app.app_context():
        factories.organisation(code="before")
        db.session.commit()
        refusal = Conflict("Not now.")
        with transaction.committed() as attempt:
            factories.organisation(code="refused")
            raise refusal
        assert attempt.refusal is refusal
        assert organisations() == ["before"]


def test_an_error_that_is_no_refusal_goes_up_uncommitted(app):
    with app.app_context():
        with pytest.raises(ZeroDivisionError), transaction.committed():
            factories.organisation(code="broken")
            1 / 0  # noqa: B018
        db.session.rollback()
        assert organisations() == []


@contextmanager
def watched(seen: list[str]) -> Iterator[str]:
    """A held context that notes how it was left."""
    try:
        yield "held"
    except BaseException as error:
        seen.append(f"left with {type(error).__name__}")
        raise
    seen.append("left in the transaction" if db.session().in_transaction()
                else "left after the commit")


def test_a_held_context_is_left_after_the_commit(app):
    with app.app_context():
        seen: list[str] = []
        with transaction.committed() as attempt:
            assert attempt.hold(watched(seen)) == "held"
            factories.organisation(code="kept")
        assert seen == ["left after the commit"]


def test_a_held_context_is_left_with_the_refusal(app):
    with app.app_context():
        seen: list[str] = []
        with transaction.committed() as attempt:
            attempt.hold(watched(seen))
            raise Conflict("Not now.")
        assert seen == ["left with Conflict"] and attempt.refusal is not None


def test_a_held_context_is_left_with_a_commit_that_fails(app):
    with app.app_context():
        factories.organisation(code="taken")
        db.session.commit()
        seen: list[str] = []
        with pytest.raises(sa.exc.IntegrityError), transaction.committed() as attempt:
            attempt.hold(watched(seen))
            # Not flushed: the duplicate is refused by the commit.
            db.session.add(Organisation(code="taken", name="Twice", kind="client"))
        assert seen == ["left with IntegrityError"]


def test_the_transaction_module_imports_only_flask_sqlalchemy_and_the_core():
    imported = imported_modules(transaction.__file__)
    assert [name for name in imported if name.startswith("helpdesk.")
            and name not in CORE] == []
