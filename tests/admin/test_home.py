"""The administration is for admins: its front page leads to each part of the set-up, and only
admins see the way there."""
import pytest

from tests.api.helpers import sign_in


def test_an_admin_reaches_the_administration_from_the_navigation(app, client, world):
    sign_in(app, client, world.admin)
    assert 'href="/admin/"' in client.get("/tickets").get_data(as_text=True)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/status"' in page and 'href="/admin/tokens"' in page


@pytest.mark.parametrize("person", ["client", "tech", "lead", "finance"])
def test_nobody_else_sees_the_way_or_the_page(app, client, world, person):
    sign_in(app, client, getattr(world, person))
    assert 'href="/admin/"' not in client.get("/tickets").get_data(as_text=True)
    assert client.get("/admin/").status_code == 404


def test_a_signed_out_visitor_is_asked_to_sign_in(client):
    assert client.get("/admin/").headers["Location"].startswith("/login")
