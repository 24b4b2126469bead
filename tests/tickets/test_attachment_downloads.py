"""Downloading an attachment: a file that a browser would run (HTML, SVG, JavaScript, XML) is sent
as opaque bytes, never with its active type from the helpdesk's own origin, and no download is
kept in any cache."""
import pytest

from helpdesk.tickets.attachments import served_type
from tests.api.helpers import add_reply_with_attachment, open_ticket
from tests.conftest import login


@pytest.mark.parametrize("content_type", [
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
    "application/javascript", "application/ecmascript", "text/xml", "application/xml",
    "application/atom+xml", "TEXT/HTML"])
def test_types_a_browser_would_run_are_served_as_opaque_bytes(content_type):
    assert served_type(content_type) == "application/octet-stream"


@pytest.mark.parametrize("content_type", ["text/plain", "application/pdf", "image/png",
                                          "text/csv", "application/zip"])
def test_passive_types_keep_their_own(content_type):
    assert served_type(content_type) == content_type


@pytest.mark.parametrize(("filename", "expected"), [
    ("payload.js", "application/octet-stream"), ("page.html", "application/octet-stream"),
    ("drawing.svg", "application/octet-stream"), ("notes.txt", "text/plain; charset=utf-8")])
def test_a_download_is_sent_as_its_served_type_and_never_stored(app, client, world, filename,
                                                                 expected):
    number = open_ticket(app, requester=world.client, title="Shop checkout broken")
    attachment = add_reply_with_attachment(app, number, author=world.tech, filename=filename,
                                           content=b"alert(document.cookie)")
    login(client, world.client)
    with client.get(f"/tickets/{number}/attachments/{attachment}") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == expected
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
