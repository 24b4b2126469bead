"""The translation catalogues: extract the messages, update the French catalogue, compile it.

    python -m helpdesk.web.translations_cli update    # sources → messages.pot → fr/…/messages.po
    python -m helpdesk.web.translations_cli compile   # every .po → .mo (what the app reads)

The .mo files are never committed: the application compiles those missing or older than their
.po as it starts (helpdesk/web/i18n.py), and so do run.sh, test.sh and the test session. The
same extraction feeds tests/test_translations.py.
"""
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "babel.cfg"
CATALOGUES = ROOT / "helpdesk" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"
LOCALES = ("fr",)
# Besides gettext's usual names: lazy messages (form labels, module constants) and the domain
# errors, whose first argument is an English message views translate (helpdesk/errors.py).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "DomainError": None, "NotFound": None, "Forbidden": None, "Conflict": None}
COMMENT_TAGS = ("TRANSLATORS:",)
HEADER = {"project": "helpdesk", "version": "1", "copyright_holder": "the helpdesk authors",
          "msgid_bugs_address": "", "last_translator": "the helpdesk team",
          "language_team": "the helpdesk team"}


def extract_messages() -> Catalog:
    """Every message marked in the sources that babel.cfg names, with where it is used."""
    with MAPPING.open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping, str(MAPPING))
    catalog = Catalog(charset="utf-8", **HEADER)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS,
                             comment_tags=COMMENT_TAGS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def catalogue_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / "messages.po"


def read_catalogue(locale: str) -> Catalog:
    with catalogue_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def _replace(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write beside, then rename: a test run or a worker reading the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def update_catalogues(locales: Iterable[str] = LOCALES) -> dict[str, int]:
    """Extract into messages.pot and merge it into each locale's catalogue (created if missing).

    New messages arrive untranslated, never guessed from a similar one (no fuzzy matching), and
    messages gone from the sources are dropped. Returns how many are untranslated per locale.
    """
    template = extract_messages()
    _replace(TEMPLATE, lambda out: write_po(out, template, width=100, sort_by_file=True))
    missing = {}
    for locale in locales:
        path = catalogue_path(locale)
        if path.exists():
            catalogue = read_catalogue(locale)
        else:
            catalogue = Catalog(locale=locale, charset="utf-8", fuzzy=False, **HEADER)
        catalogue.update(template, no_fuzzy_matching=True)
        _replace(path, lambda out, c=catalogue: write_po(out, c, width=100, ignore_obsolete=True,
                                                         include_previous=False))
        missing[locale] = sum(1 for m in catalogue if m.id and not _translated(m))
    return missing


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def compile_catalogues(directory: Path = CATALOGUES, *, stale_only: bool = False) -> list[Path]:
    """Each .po into the .mo the application reads; fuzzy translations are left out."""
    compiled = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if stale_only and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        _replace(mo, lambda out, c=catalogue: write_mo(out, c))
        compiled.append(mo)
    return compiled


@click.group("translations", help="Extract, update and compile the translation catalogues.")
def translations_cli() -> None:
    pass


@translations_cli.command("update")
def update_command() -> None:
    """Extract the messages from the sources and merge them into each catalogue."""
    for locale, count in update_catalogues().items():
        click.echo(f"{catalogue_path(locale).relative_to(ROOT)}: {count} message(s) to translate")


@translations_cli.command("compile")
@click.option("--stale-only", is_flag=True, help="Only catalogues newer than their .mo file.")
def compile_command(stale_only: bool) -> None:
    """Compile each catalogue into the .mo file the application reads."""
    for mo in compile_catalogues(stale_only=stale_only):
        click.echo(f"compiled {mo.relative_to(ROOT)}")


if __name__ == "__main__":
    translations_cli()
