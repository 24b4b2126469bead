"""Static files carry a digest of their content, so browsers may cache them for a year."""
import re

from helpdesk.web.assets import IMMUTABLE

STYLESHEET = re.compile(r'href="(/static/css/app\.css\?v=(\w+))"')


def test_pages_link_static_files_with_a_digest_of_their_content(client):
    page = client.get("/login").get_data(as_text=True)

    url, version = STYLESHEET.search(page).groups()

    assert len(version) == 12
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE


def test_a_changed_file_gets_a_new_url(app, client, tmp_path):
    app.static_folder = str(tmp_path)
    (tmp_path / "site.js").write_text("first();")
    with app.test_request_context():
        from flask import url_for
        before = url_for("static", filename="site.js")
        (tmp_path / "site.js").write_text("second();  // longer, so the change is seen")
        after = url_for("static", filename="site.js")

    assert before != after
    with client.get(after) as response:
        assert response.get_data(as_text=True).startswith("second")


def test_an_unversioned_static_url_is_not_cached_for_long(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")
