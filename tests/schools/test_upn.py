import pytest
from hypothesis import given, strategies as st

from outreach.schools.upn import CHECK_ALPHABET, check_letter, is_temporary, make_upn, upn_problem


def test_check_letter_worked_example():
    # 8x2 + 2x3 + 3x4 + 1x5 + 2x6 + 3x7 + 4x8 + 5x9 + 6x10 + 0x11 + 0x12 + 1x13 = 222;
    # 222 mod 23 = 15, and the 16th letter of ABCDEFGHJKLMNPQRTUVWXYZ is R.
    assert check_letter("823123456001") == CHECK_ALPHABET[15] == "R"
    assert upn_problem("R823123456001") is None


@pytest.mark.parametrize("raw,reason", [
    ("A82312345600", "13 characters"),
    ("B823123456001", "check letter should be R"),
    ("R82312345600I", "a UPN is a check letter"),  # I is never used
    ("1823123456001", "a UPN is a check letter"),
    ("C8231234560011", "13 characters"),
])
def test_invalid_upns_say_why(raw, reason):
    assert reason in upn_problem(raw)


def test_temporary_upn_ends_in_letter_and_is_checked():
    body = "82312345600A"
    upn = check_letter(body) + body
    assert upn_problem(upn) is None
    assert is_temporary(upn)
    assert upn_problem(("A" if upn[0] != "A" else "B") + body) is not None


@given(st.integers(0, 999), st.integers(0, 9999), st.integers(0, 99), st.integers(0, 999))
def test_made_upns_are_valid_and_any_single_digit_change_is_caught(la, estab, year, serial):
    upn = make_upn(la, estab, year, serial)
    assert upn_problem(upn) is None and not is_temporary(upn)
    digit = (int(upn[5]) + 1) % 10
    altered = upn[:5] + str(digit) + upn[6:]
    assert upn_problem(altered) is not None
