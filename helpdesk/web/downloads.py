"""A file the browser saves rather than shows: CSV exports, credit-note PDFs."""
from flask import Response
from werkzeug.utils import secure_filename


def download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{secure_filename(filename)}"'})
