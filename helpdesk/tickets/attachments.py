"""Attachment bytes on disk, outside `static/`, under random names; metadata lives in the database."""
import hashlib
import mimetypes
import os
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from helpdesk.errors import DomainError
from helpdesk.formatting import filesize
from helpdesk.tickets.rules import FILENAME_MAX

CHUNK = 64 * 1024
# What a browser would render or run if the helpdesk's own origin sent it under its type.
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml",
                          "text/javascript", "application/javascript", "application/ecmascript",
                          "text/ecmascript", "text/xml", "application/xml", "text/xsl"})


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    storage_name: str


def served_type(content_type: str) -> str:
    """The type a download is sent with: opaque bytes for anything a browser would run."""
    base = content_type.split(";", 1)[0].strip().lower()
    if base in ACTIVE_TYPES or base.endswith("+xml"):
        return "application/octet-stream"
    return content_type


def clean_filename(name: str) -> str:
    """A display name safe in headers and on any file system; never used as a path."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*').strip(" .")
    return name[:FILENAME_MAX] or "attachment"


def store_file(stream: BinaryIO, filename: str, *, directory: Path, max_bytes: int) -> StoredFile:
    """Copy an upload to the store, refusing it (and leaving nothing behind) when too large."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError(
                        f"The attachment is larger than {filesize(max_bytes)}.",
                        field="attachment",
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise DomainError("The attachment is empty.", field="attachment")
        storage_name = secrets.token_hex(16)
        os.replace(temp_path, directory / storage_name)
    except BaseException:
        Path(temp_path).unlink(missing_ok=True)
        raise
    display = clean_filename(filename)
    content_type = mimetypes.guess_type(display)[0] or "application/octet-stream"
    return StoredFile(display, content_type, size, digest.hexdigest(), storage_name)


def stored_path(directory: Path, storage_name: str) -> Path:
    return directory / storage_name
