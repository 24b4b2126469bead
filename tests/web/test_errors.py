"""An unexpected error answers a plain 500 page and leaves its traceback in the log, even in a
process that ran the migrations first (Alembic's logging set-up must not silence our loggers)."""
import logging

import pytest
from flask_migrate import upgrade

from helpdesk.extensions import db


def _failing_route(app):
    def explode():
        raise RuntimeError("the disk caught fire")
    app.add_url_rule("/explode", view_func=explode)


@pytest.fixture
def migrated(app):
    """The app after `flask db upgrade` ran in its process, which loads the logging configuration
    of migrations/alembic.ini (before the test, whose log capture it would replace)."""
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def test_an_unexpected_error_leaves_its_traceback_in_the_log_after_a_migration(migrated, caplog):
    app = migrated
    _failing_route(app)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert "disk caught fire" not in response.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.name == "helpdesk.web.errors"]
    assert record.exc_info and "the disk caught fire" in caplog.text
    assert "GET /explode" in record.getMessage()
