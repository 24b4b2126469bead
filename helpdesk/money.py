"""The one rounding rule for money, and how an amount is written as a plain number.

The rule (DESIGN §3.4): money is `Decimal`, never float, and an amount is rounded to the cent
half-up — 0.005 becomes 0.01, -0.005 becomes -0.01 (away from zero on the half, as accountants
and the Factur-X rules expect). Every output goes through `to_cent`: the pages (which then add
their locale's grouping and currency sign), the API's JSON, the CSV, the PDF and the Factur-X
XML. Python's `f"{x:.2f}"` and Babel both round half-even (0.125 → 0.12), so an amount with a
third decimal written by one of them directly would differ by a cent from the same amount
written by another output; hence the rule is here, once.

`plain` writes the rounded amount with exactly two places and no exponent: `-60.00`, never
`-60`, `-6E+1` or `-0.00`. Standard library only, so every layer may use it.
"""
from decimal import ROUND_HALF_UP, Context, Decimal

CENT = Decimal("0.01")


def to_cent(amount: Decimal | int) -> Decimal:
    """`amount` rounded half-up to the cent, whatever the caller's decimal context."""
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money")
    # Wide enough for every digit of the result, so quantize never fails on a large amount.
    context = Context(prec=max(28, amount.adjusted() + 4))
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP, context=context)
    return cents.copy_abs() if cents.is_zero() else cents


def plain(amount: Decimal | int) -> str:
    """The amount rounded by `to_cent`, as a plain decimal with two places: "-60.00"."""
    return f"{to_cent(amount):f}"
