"""Import and export in the browser: the file the import reads, and whether to apply it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

# An import file describes a provider's set-up: a few hundred entries at most.
IMPORT_MAX_BYTES = 2 * 1024 * 1024


class ImportForm(FlaskForm):
    document = FileField(_l("Import file (JSON)"),
                         validators=[FileRequired(_l("Choose a JSON file to import."))])
    check = SubmitField(_l("Check without importing"))
    apply = SubmitField(_l("Import"))
