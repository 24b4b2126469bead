"""Languages and time zones: the signed-in user's choice, else the browser's, else French."""
import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from helpdesk.web.translations_cli import compile_catalogues

logger = logging.getLogger(__name__)

LANGUAGES = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"
SESSION_KEY = "language"


def select_locale() -> str:
    if not has_request_context():  # the CLI and the scheduler: mails choose their own language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = getattr(current_user, "language", None) or session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return (request.accept_languages.best_match(LANGUAGES)
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def compile_missing_catalogues(directory: Path) -> list[Path]:
    """Compile each catalogue whose .mo is missing or older than its .po, however the app was
    installed. Cheap when they are up to date (a few stat calls); safe when several workers
    start at once (each writes its own file and renames it over the .mo); where the folder is
    read-only, a warning rather than a crash: the pages are then in English."""
    try:
        compiled = compile_catalogues(directory, stale_only=True)
    except OSError as error:
        logger.warning("cannot compile the translation catalogues in %s (%s): pages without a "
                       "compiled catalogue are shown in English; compile them where the folder "
                       "is writable: python -m helpdesk.web.translations_cli compile",
                       directory, error)
        return []
    for mo in compiled:
        logger.info("compiled %s", mo)
    return compiled


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_locale)
    for directory in app.extensions["babel"].translation_directories:
        compile_missing_catalogues(Path(directory))

    @app.context_processor
    def languages() -> dict[str, Any]:
        return {"languages": LANGUAGES, "current_language": current_language()}
