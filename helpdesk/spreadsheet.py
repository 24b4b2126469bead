"""Text bound for a spreadsheet (every CSV the helpdesk writes): core layer, no domain import.

A spreadsheet reads a cell starting with one of `FORMULA_STARTS` as a formula (tab and carriage
return can hide one after leading white space): such text is prefixed with a quote, which
spreadsheets show as text. Only text written by people goes through `neutralise`; amounts are
written as numbers and keep their minus sign.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str | None) -> str:
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
