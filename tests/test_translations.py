"""French and English: the catalogue is complete, pages speak the reader's language, and what
machines read (API problems, service messages) stays English."""
import os
import re
import shutil
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask_babel import force_locale

from helpdesk import create_app
from helpdesk.accounts.models import User
from helpdesk.accounts.roles import Role
from helpdesk.accounts.scopes import ALL_SCOPES
from helpdesk.accounts.services import find_user
from helpdesk.accounts.tokens import create_api_token
from helpdesk.billing.services import month_not_ended
from helpdesk.clock import now_utc
from helpdesk.contracts.models import Contract
from helpdesk.errors import Conflict, DomainError
from helpdesk.extensions import db
from helpdesk.formatting import month_label, percent
from helpdesk.month import Month
from helpdesk.tickets.models import Status
from helpdesk.tickets.services import open_ticket
from helpdesk.tickets.workflow import ACTION_PHRASES, ROLE_REFUSALS, STATUS_LABELS, Action
from helpdesk.tickets.workflow import next_status as workflow_next_status
from helpdesk.web.errors import error_message
from helpdesk.web.translations_cli import (
    CATALOGUES,
    compile_catalogues,
    extract_messages,
    read_catalogue,
)
from tests.conftest import csrf_token, login

PLACEHOLDER = re.compile(r"%\((\w+)\)[a-z]|%%")
NBSP = "\N{NO-BREAK SPACE}"


def text(page: str) -> str:
    """The words of a page (no-break spaces become plain spaces)."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).replace("&#39;", "'").split())


def nav(page: str) -> str:
    return text(page.split('<header class="top">', 1)[1].split("</header>", 1)[0])


def placeholders(message: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(message))


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return extract_messages()


@pytest.fixture(scope="module")
def french() -> Catalog:
    return read_catalogue("fr")


# -- the catalogue -------------------------------------------------------------------------------


def test_every_message_of_the_sources_has_a_french_translation(extracted, french):
    untranslated = []
    for message in extracted:
        if not message.id:
            continue
        entry = french.get(message.id, context=message.context)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or entry.fuzzy or not strings or not all(strings):
            untranslated.append(message.id)
    assert untranslated == [], "run `python -m helpdesk.web.translations_cli update` and translate"


def test_french_translations_keep_the_placeholders_of_their_message(french):
    wrong = []
    for entry in french:
        if not entry.id or not entry.string:
            continue
        if isinstance(entry.id, tuple):
            expected = placeholders(entry.id[1])
            # The singular may spell "one" out instead of giving %(num)d.
            allowed = [expected, [p for p in expected if p != "num"]]
            strings = entry.string
        else:
            allowed, strings = [placeholders(entry.id)], (entry.string,)
        wrong += [(entry.id, string) for string in strings if placeholders(string) not in allowed]
    assert wrong == []


def test_domain_error_messages_are_extracted_without_marking_the_services(extracted):
    """The first argument of DomainError and its subclasses is a catalogue message."""
    assert extracted.get("Only finance and admins may waive a breach.") is not None
    assert extracted.get("Cannot resolve a ticket that is %(status)s.") is not None


def test_the_catalogue_has_no_fuzzy_or_obsolete_entries(french):
    assert [m.id for m in french if m.id and m.fuzzy] == []
    assert list(french.obsolete) == []


def test_a_catalogue_newer_than_its_compiled_file_is_compiled_again(tmp_path, french):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    po, mo = folder / "messages.po", folder / "messages.mo"
    with po.open("wb") as out:
        write_po(out, french)
    assert compile_catalogues(tmp_path, stale_only=True) == [mo]
    assert compile_catalogues(tmp_path, stale_only=True) == []
    later = mo.stat().st_mtime + 10
    os.utime(po, (later, later))
    assert compile_catalogues(tmp_path, stale_only=True) == [mo]


def test_the_source_catalogue_is_the_one_compiled(tmp_path):
    """What tests and run.sh compile is helpdesk/translations: a copy compiles to the same file."""
    copy = tmp_path / "translations"
    shutil.copytree(CATALOGUES, copy, ignore=shutil.ignore_patterns("*.mo", "*.pot"))
    [compiled] = compile_catalogues(copy)
    assert compiled.read_bytes() == (CATALOGUES / "fr" / "LC_MESSAGES" / "messages.mo").read_bytes()


# -- machines keep English; people read their language --------------------------------------------


def test_status_labels_are_english_outside_a_request():
    assert str(STATUS_LABELS[Status.WAITING_ON_CLIENT]) == "waiting on client"


def test_role_refusals_read_as_the_action_phrases_in_english():
    assert {action: message for action, message in ROLE_REFUSALS.items()} == {
        action: f"Your role cannot {phrase} a ticket." for action, phrase in ACTION_PHRASES.items()}


def test_a_domain_error_stays_english_and_reads_in_french_on_a_page(app):
    with pytest.raises(Conflict) as refused:
        workflow_next_status(Action.RESOLVE, Status.NEW, Role.TECHNICIAN)
    error = refused.value
    assert error.message == "Cannot resolve a ticket that is new."
    with app.test_request_context(), force_locale("fr"):
        assert error_message(error) == (
            f"Impossible de résoudre un ticket au statut «{NBSP}nouveau{NBSP}».")
    with app.test_request_context(), force_locale("en"):
        assert error_message(error) == "Cannot resolve a ticket that is new."


def test_a_month_in_a_domain_error_reads_in_the_reader_language(app):
    error = DomainError("Contract %(reference)s was not in force in %(month)s.",
                        reference="CT-SHOP", month=Month(2025, 6))
    assert error.message == "Contract CT-SHOP was not in force in June 2025."
    with app.test_request_context(), force_locale("fr"):
        assert error_message(error) == "Le contrat CT-SHOP n’était pas en vigueur en juin 2025."


def test_a_month_not_ended_reads_in_the_reader_language(app):
    refusal = month_not_ended("2026-11", "Europe/Paris", datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    assert refusal.message == ("November 2026 has not ended in Europe/Paris as of 2026-11-27 "
                               "09:30 UTC: it can be closed from 2026-11-30 23:00 UTC.")
    with app.test_request_context(), force_locale("fr"):
        assert error_message(refusal) == (
            f"novembre 2026 n’est pas terminé dans le fuseau Europe/Paris au 2026-11-27 09:30 UTC"
            f"{NBSP}: il pourra être clôturé à partir du 2026-11-30 23:00 UTC.")


def test_a_french_user_gets_api_refusals_in_english(app, client, world):
    with app.app_context():
        _set_language(world.client, "fr")
        number = _open_ticket(world)
        token = create_api_token(find_user(world.client), name="tests", scopes=ALL_SCOPES,
                                 expires_at=None, actor=None,
                                 now=datetime(2026, 11, 30, 9, tzinfo=UTC))
        db.session.commit()
    response = client.post(f"/api/v1/tickets/{number}/actions", json={"action": "take"},
                           headers={"Authorization": f"Bearer {token}",
                                    "Accept-Language": "fr"})
    assert response.status_code == 403
    assert response.json["detail"] == "Your role cannot take in charge a ticket."


def test_localised_percentages_and_months_follow_the_language(app):
    with app.test_request_context(), force_locale("fr"):
        assert percent(99.7315, 3) == f"99,732{NBSP}%"
        assert month_label("2026-10") == "octobre 2026"
    with app.test_request_context(), force_locale("en"):
        assert percent(10) == "10 %"
        assert month_label("2026-10") == "October 2026"


# -- pages ---------------------------------------------------------------------------------------


def _set_language(email: str, language: str) -> None:
    db.session.execute(sa.update(User).where(User.email == email).values(language=language))


def _open_ticket(world) -> str:
    client_user = db.session.scalar(sa.select(User).where(User.email == world.client))
    contract = db.session.scalar(sa.select(Contract).where(Contract.reference == world.contract))
    return open_ticket(actor=client_user, contract=contract, priority_code="P1",
                       title="Site en panne", description="Erreur 500 partout.",
                       now=now_utc()).number


def _language_of(app, email: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.language).where(User.email == email))


def test_an_anonymous_visitor_asking_for_english_gets_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True)
    assert "<h1>Sign in</h1>" in page and '<html lang="en">' in page


@pytest.mark.parametrize("app_config", [{"BABEL_DEFAULT_LOCALE": "fr"}])
def test_an_anonymous_visitor_without_a_language_gets_french(client):
    page = client.get("/login").get_data(as_text=True)
    assert "<h1>Se connecter</h1>" in page and '<html lang="fr">' in page
    assert "Mot de passe" in page


def test_french_is_the_default_language_of_the_application():
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x" * 40})
    assert fresh.config["BABEL_DEFAULT_LOCALE"] == "fr"


def test_form_validation_messages_are_in_french_for_a_french_visitor(client):
    response = client.post("/login", headers={"Accept-Language": "fr"},
                           data={"email": "", "password": "",
                                 "csrf_token": csrf_token(client, "/login")})
    assert "Ce champ est requis." in response.get_data(as_text=True)


def test_a_french_technician_sees_the_queue_in_french(app, client, world):
    with app.app_context():
        _set_language(world.tech, "fr")
        db.session.commit()
    login(client, world.tech)
    page = client.get("/queue").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "File d’attente" in nav(page) and "Tous les tickets" in nav(page)
    assert "Se déconnecter" in nav(page) and "technicien" in nav(page)


def test_a_french_client_reads_its_ticket_page_in_french(app, client, world):
    with app.app_context():
        _set_language(world.client, "fr")
        number = _open_ticket(world)
        db.session.commit()
    login(client, world.client)
    page = client.get(f"/tickets/{number}").get_data(as_text=True)
    assert "Nouvel incident" in nav(page) and "Mes tickets" in nav(page)
    assert "Avoirs" in nav(page) and "Rapport SLA" in nav(page)
    assert "nouveau" in text(page.split('id="main"', 1)[1])


def test_switching_language_changes_the_labels_and_is_kept_on_the_account(app, client, world):
    login(client, world.tech)
    assert "Queue" in nav(client.get("/queue").get_data(as_text=True))
    response = client.post("/language", headers={"Referer": "http://localhost/queue"},
                           data={"language": "fr", "csrf_token": csrf_token(client, "/queue")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/queue")
    assert "File d’attente" in nav(client.get("/queue").get_data(as_text=True))
    assert _language_of(app, world.tech) == "fr"

    client.post("/logout", data={"csrf_token": csrf_token(client, "/queue")})
    login(client, world.tech)
    assert "File d’attente" in nav(client.get("/queue", headers={
        "Accept-Language": "en"}).get_data(as_text=True))


def test_an_anonymous_switch_is_kept_for_the_visit(client):
    client.post("/language", headers={"Referer": "http://localhost/login"},
                data={"language": "fr", "csrf_token": csrf_token(client, "/login")})
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Se connecter</h1>" in page


def test_an_unknown_language_is_refused_with_a_message_and_changes_nothing(app, client, world):
    login(client, world.tech)
    response = client.post("/language", headers={"Referer": "http://localhost/queue"},
                           data={"language": "klingon",
                                 "csrf_token": csrf_token(client, "/queue")},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Choose one of the offered languages." in text(page)
    assert "Queue" in nav(page)
    assert _language_of(app, world.tech) == "en"


def test_a_french_reader_sees_error_pages_in_french(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "<h1>Page introuvable</h1>" in response.get_data(as_text=True)


def test_a_french_finance_user_closes_a_month_in_french(app, client, world):
    with app.app_context():
        _set_language(world.finance, "fr")
        db.session.commit()
    month = str(Month.of(now_utc(), "Europe/Paris").previous())
    login(client, world.finance)
    response = client.post("/billing/close", follow_redirects=True, data={
        "month": month, "csrf_token": csrf_token(client, f"/billing/?month={month}")})
    page = response.get_data(as_text=True)
    with app.test_request_context(), force_locale("fr"):
        label = month_label(month)
    assert f"<h1>Facturation · {label}</h1>" in page
    assert f">{label} clôturé pour 2 contrats{NBSP}: 2 sans avoir.</p>" in page
