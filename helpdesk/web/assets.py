"""Cache-busting for static files: every URL carries a digest of the file's content, so a
browser may keep a file for a year and still gets a changed file at once."""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=512)
def _digest(path: Path, modified: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def content_version(static_folder: str, filename: str) -> str | None:
    path = Path(static_folder, filename)
    try:
        modified = path.stat().st_mtime
    except OSError:
        return None
    return _digest(path, modified)


def init_app(app: Flask) -> None:
    @app.url_defaults
    def version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = content_version(app.static_folder, values["filename"])
            if version is not None:
                values["v"] = version

    @app.after_request
    def cache_versioned_static(response: Response) -> Response:
        if (request.endpoint == "static" and "v" in request.args
                and response.status_code == 200):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
