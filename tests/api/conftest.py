"""API fixtures: bearer tokens for the people of the world, made on first use."""
import pytest

from tests.api.helpers import api_token


class Tokens:
    """`tokens.client`, `tokens.tech`, …: a token for that person of the world, made (and
    committed) the first time it is asked for, before the request that uses it."""

    def __init__(self, app, world):
        self._app, self._world, self._made = app, world, {}

    def __getattr__(self, person: str) -> str:
        if person.startswith("_"):
            raise AttributeError(person)
        if person not in self._made:
            self._made[person] = api_token(self._app, getattr(self._world, person))
        return self._made[person]


@pytest.fixture
def tokens(app, world):
    return Tokens(app, world)
