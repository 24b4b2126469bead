"""Fixtures over the hand-built history of tests/reporting/history.py."""
import pytest

from tests.conftest import login
from tests.reporting.history import build_history, make_people


@pytest.fixture
def people(app):
    """Inside an app context for the whole test: `make_people()`."""
    with app.app_context():
        yield make_people()


@pytest.fixture
def history(people):
    """`build_history` inside the test's app context."""
    return build_history(people)


@pytest.fixture
def books(app):
    """`build_history` committed in an app context of its own, for tests that make requests."""
    with app.app_context():
        return build_history(make_people())


@pytest.fixture
def signed_in(client, books):
    """`signed_in("finance")`: the test client, signed in as that person of `books`."""
    def as_person(person: str):
        login(client, getattr(books, person))
        return client
    return as_person
