"""The application finds its compiled catalogues however it was installed: at start-up it
compiles each one missing or older than its .po, and a read-only folder only costs a warning.

Each test works on a copy of helpdesk/translations, named by BABEL_TRANSLATION_DIRECTORIES.
"""
import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from helpdesk import create_app
from helpdesk.web import translations_cli
from helpdesk.web.i18n import compile_missing_catalogues
from helpdesk.web.translations_cli import CATALOGUES


def _copy(tmp_path):
    copy = tmp_path / "translations"
    shutil.copytree(CATALOGUES, copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    return copy / "fr" / "LC_MESSAGES"


def _age(path, seconds: int = 3600) -> None:
    """Make `path` older than its catalogue, as a .mo left from an earlier release is."""
    po = path.with_suffix(".po")
    earlier = po.stat().st_mtime - seconds
    os.utime(path, (earlier, earlier))


@pytest.fixture
def folder(request, tmp_path):
    """The copy's fr/LC_MESSAGES: its .mo missing, or stale (an old one without a single
    translation), as the test asks."""
    folder = _copy(tmp_path)
    if getattr(request, "param", "missing") == "stale":
        with (folder / "messages.mo").open("wb") as out:
            write_mo(out, Catalog(locale="fr"))
        _age(folder / "messages.mo")
    return folder


@pytest.fixture
def app_config(folder):
    return {"BABEL_TRANSLATION_DIRECTORIES": str(folder.parent.parent)}


def french_login_page(client) -> str:
    return client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)


@pytest.mark.parametrize("folder", ["missing", "stale"], indirect=True)
def test_a_missing_or_stale_catalogue_is_compiled_when_the_app_starts(folder, client):
    page = french_login_page(client)
    assert "<h1>Se connecter</h1>" in page and "Mot de passe" in page
    mo = folder / "messages.mo"
    assert mo.stat().st_mtime >= (folder / "messages.po").stat().st_mtime


def test_an_up_to_date_catalogue_is_left_as_it_is(folder, tmp_path):
    compile_missing_catalogues(folder.parent.parent)
    mo = folder / "messages.mo"
    before = (mo.stat().st_mtime_ns, mo.stat().st_ino)
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "BABEL_TRANSLATION_DIRECTORIES": str(folder.parent.parent)})
    assert (mo.stat().st_mtime_ns, mo.stat().st_ino) == before


def test_workers_starting_at_once_all_find_a_whole_catalogue(folder, tmp_path):
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: compile_missing_catalogues(folder.parent.parent), range(8)))
    assert sorted(path.name for path in folder.iterdir()) == ["messages.mo", "messages.po"]
    reference = _copy(tmp_path / "reference")
    translations_cli.compile_catalogues(reference.parent.parent)
    assert (folder / "messages.mo").read_bytes() == (reference / "messages.mo").read_bytes()


def test_a_read_only_folder_gives_a_warning_not_a_crash(folder, tmp_path, monkeypatch, caplog):
    def read_only(path, _write):
        raise PermissionError(13, "Permission denied", str(path.parent))

    # Tests may run as root, which writes in any folder: the refusal is the file system's.
    monkeypatch.setattr(translations_cli, "_replace", read_only)
    with caplog.at_level(logging.WARNING, logger="helpdesk.web.i18n"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40,
                          "INSTANCE_PATH": str(tmp_path / "instance"),
                          "BABEL_TRANSLATION_DIRECTORIES": str(folder.parent.parent)})
    assert app is not None
    [record] = [r for r in caplog.records if r.name == "helpdesk.web.i18n"]
    assert record.levelno == logging.WARNING
    assert "cannot compile the translation catalogues" in record.getMessage()
    assert "Permission denied" in record.getMessage()
    assert not (folder / "messages.mo").exists()
