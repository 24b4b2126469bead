"""The one rounding rule for money: half-up to the cent, written as a plain decimal."""
import sys
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk import money as money_module
from helpdesk.money import CENT, plain, to_cent
from tests.imports import imported_modules


@pytest.mark.parametrize(("amount", "cents"), [
    ("0.005", "0.01"), ("0.015", "0.02"), ("0.025", "0.03"), ("2.125", "2.13"),
    ("2.135", "2.14"), ("2.1249", "2.12"), ("-0.005", "-0.01"), ("-2.125", "-2.13"),
    ("-2.1249", "-2.12"), ("60", "60.00"), ("-60", "-60.00"), ("0", "0.00"),
])
def test_an_amount_is_rounded_half_up_to_the_cent(amount, cents):
    result = to_cent(Decimal(amount))
    assert isinstance(result, Decimal)
    assert str(result) == cents


def test_the_half_is_rounded_up_where_python_and_babel_would_round_it_to_even():
    assert f"{Decimal('0.125'):.2f}" == "0.12"  # what `:.2f` does, and why the rule is here
    assert plain(Decimal("0.125")) == "0.13"


@pytest.mark.parametrize(("amount", "text"), [
    (Decimal("-60"), "-60.00"), (Decimal("-6E+1"), "-60.00"), (Decimal("1E+3"), "1000.00"),
    (Decimal("1.5E-7"), "0.00"), (Decimal("-0.001"), "0.00"), (Decimal("-0.00"), "0.00"),
    (Decimal("123456789012345678901234567890.125"), "123456789012345678901234567890.13"),
    (Decimal("1E+40"), "1" + "0" * 40 + ".00"), (12, "12.00"),
])
def test_plain_writes_two_places_and_never_an_exponent(amount, text):
    assert plain(amount) == text


def test_the_rule_does_not_depend_on_the_callers_decimal_context():
    with localcontext() as context:
        context.prec = 3
        context.rounding = ROUND_HALF_EVEN
        assert plain(Decimal("12345.125")) == "12345.13"


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_what_is_not_an_amount_is_refused(amount):
    with pytest.raises(ValueError):
        to_cent(amount)


amounts = st.decimals(min_value=Decimal("-1E15"), max_value=Decimal("1E15"), allow_nan=False,
                      allow_infinity=False, places=6)


@given(amounts)
def test_the_rounded_amount_is_within_half_a_cent_and_ties_go_away_from_zero(amount):
    cents = to_cent(amount)
    assert cents == cents.quantize(CENT)
    assert abs(cents - amount) <= Decimal("0.005")
    if abs(cents - amount) == Decimal("0.005"):
        assert abs(cents) > abs(amount)


@given(amounts)
def test_rounding_is_symmetric_and_idempotent(amount):
    assert to_cent(-amount) == -to_cent(amount)
    assert to_cent(to_cent(amount)) == to_cent(amount)


@given(amounts)
def test_plain_reads_back_as_the_rounded_amount(amount):
    text = plain(amount)
    assert "E" not in text.upper()
    assert len(text.split(".")[1]) == 2
    assert Decimal(text) == to_cent(amount)


def test_the_money_module_imports_only_the_standard_library():
    imported = imported_modules(money_module.__file__)
    assert [name for name in imported if name.split(".")[0] not in sys.stdlib_module_names] == []
