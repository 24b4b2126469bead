"""Rules on the short texts people read in lists, mails and documents (titles, names): one place,
so the forms, the API, the import and the services refuse the same characters."""
from helpdesk.errors import DomainError, Term

# Unicode's bidirectional controls (embeddings, overrides, isolates, marks). In a title or a name
# they reorder what follows, so "invoice\u202Efdp.exe" reads as "invoiceexe.pdf".
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
# For the API and the import, whose messages follow the field's name ("title must …").
BIDI_REFUSAL = ("must not contain Unicode direction controls (U+202A to U+202E, U+2066 to "
                "U+2069, U+200E, U+200F, U+061C), which can disguise what a text says")


def has_bidi_controls(text: str) -> bool:
    return not BIDI_CONTROLS.isdisjoint(text)


def refuse_bidi_controls(text: str, *, field: str, label: str) -> None:
    """`label` is a catalogue message naming the field, e.g. N_("Title")."""
    if has_bidi_controls(text):
        raise DomainError("%(label)s contains Unicode direction controls (such as U+202E), "
                          "which can disguise what it says; remove them.", field=field,
                          label=Term(label))
