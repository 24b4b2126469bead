"""Languages and time zones: the signed-in user's choice, else the browser's, else French."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

LANGUAGES = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"
DEFAULT_ZONE = "Europe/Paris"
SESSION_KEY = "language"


def select_locale() -> str:
    if not has_request_context():  # the CLI and the scheduler: mails choose their own language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = getattr(current_user, "language", None) or session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return (request.accept_languages.best_match(LANGUAGES)
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": current_language()}
