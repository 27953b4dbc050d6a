"""The keyboard entry check character K (ISBT 128 ST-001 §7.5 and Appendix A).

Expected values come from the published worked examples; the properties check what ISO/IEC 7064
mod 37-2 promises: every single substitution and every adjacent transposition is detected.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_2

from cartflow.identity.errors import MalformedIdentifier
from cartflow.identity.isbt128 import (
    ISO7064_ALPHABET,
    ChainOfIdentityId,
    Din,
    check_character,
    verify_keyed,
)

# ST-001 Table 35 [RT035], copied from the standard: character -> check value is its index.
TABLE_35 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"

# (DIN as printed, K, Type 3 flags or None), each from a published example.
PUBLISHED_DINS = [
    ("G1234 17 654321", "A", "70"),  # ST-001 v6.2.2 Appendix A.1 and A.2
    ("A9999 21 123456", "3", None),  # ST-001 Figure 2, Donation Numbering
    ("A9998 18 123456", "N", None),  # ST-001 §7.5.1.1, printing the check character
    ("W0000 09 123456", "G", None),  # ST-001 §7.4.1, flag characters example
    ("G123 498 654 321", "H", "77"),  # JPAC Red Book Annex 2, Table A2.2
]

FIN_FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
FIN_NEXT = "ABCDEFGHIJKLMNPQRSTUVWXYZ0123456789"
DIGITS = "0123456789"
UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def chars(alphabet: str, n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=n, max_size=n)


fins = st.builds(
    lambda a, b, c: a + b + c, chars(FIN_FIRST, 1), chars(FIN_NEXT, 2), chars(DIGITS, 2)
)
dins = st.builds(Din, fins, chars(DIGITS, 2), chars(DIGITS, 6))
cois = st.builds(ChainOfIdentityId, fins, chars(DIGITS, 2), chars(UPPER_ALNUM, 6))
identifiers = st.one_of(dins, cois)


def appendix_a(data: str) -> str:
    """ST-001 Appendix A.1 steps 1-8 as written: weights 2^n from the right, then (38 - s) % 37."""
    weighted = sum(TABLE_35.index(c) * 2 ** (len(data) - i) for i, c in enumerate(data))
    return TABLE_35[(38 - weighted % 37) % 37]


@pytest.mark.parametrize(("printed", "k", "flags"), PUBLISHED_DINS)
def test_published_din_check_characters(printed: str, k: str, flags: str | None) -> None:
    din = Din.parse(printed)
    assert din.check_character == k
    if flags is not None:
        assert din.type3_flags == flags


def test_appendix_a_weighted_sum_of_the_worked_example() -> None:
    data = "G123417654321"
    weighted = sum(TABLE_35.index(c) * 2 ** (len(data) - i) for i, c in enumerate(data))
    assert weighted == 146178  # Appendix A.1, step 3
    assert weighted % 37 == 28  # step 4
    assert check_character(data) == "A"


def test_stdnum_uses_the_table_35_alphabet() -> None:
    assert ISO7064_ALPHABET == TABLE_35
    for value, char in enumerate(TABLE_35):
        # The recursive checksum of one character is its check value (ISO 7064 §7.1).
        assert mod_37_2.checksum(char) == value


@given(st.text(alphabet=UPPER_ALNUM, min_size=1, max_size=20))
def test_check_character_agrees_with_appendix_a_steps(data: str) -> None:
    assert check_character(data) == appendix_a(data)


def keyed(identifier: Din | ChainOfIdentityId) -> str:
    return identifier.value + identifier.check_character


def rejected(text: str) -> bool:
    try:
        return not verify_keyed(text)
    except MalformedIdentifier:
        return True


@given(identifiers)
def test_every_single_substitution_is_rejected(identifier: Din | ChainOfIdentityId) -> None:
    text = keyed(identifier)
    assert verify_keyed(text)
    well_formed = 0
    for position, original in enumerate(text):
        for replacement in TABLE_35:
            if replacement == original:
                continue
            altered = text[:position] + replacement + text[position + 1 :]
            assert not mod_37_2.is_valid(altered), altered
            assert rejected(altered), altered
            try:
                verify_keyed(altered)
                well_formed += 1
            except MalformedIdentifier:
                pass
    # Most substitutions keep the layout valid, so K, not the grammar, is what refuses them.
    assert well_formed > len(text) * 5


@given(identifiers)
def test_every_adjacent_transposition_is_rejected(identifier: Din | ChainOfIdentityId) -> None:
    text = keyed(identifier)
    for position in range(len(text) - 1):
        a, b = text[position], text[position + 1]
        if a == b:
            continue
        swapped = text[:position] + b + a + text[position + 2 :]
        assert not mod_37_2.is_valid(swapped), swapped
        assert rejected(swapped), swapped


def test_chain_of_identity_check_character_covers_the_literal_ch() -> None:
    # §7.5: K is over the data content string, which for Data Structure 040 starts with CH.
    coi = ChainOfIdentityId.parse("CH A9999 23 ABC123")
    assert coi.check_character == appendix_a("CHA999923ABC123")
    assert coi.check_character != appendix_a("A999923ABC123")


@pytest.mark.parametrize("bad", ["", "a9999", "A9999-21", "A*999"])
def test_check_character_refuses_characters_outside_0_9_a_z(bad: str) -> None:
    with pytest.raises(MalformedIdentifier):
        check_character(bad)
