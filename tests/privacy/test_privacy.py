from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recengine.privacy import CARD_MASK, EMAIL_MASK, PHONE_MASK, mask_personal_data, pseudonymise


def test_email_phone_and_card_are_masked() -> None:
    text = "Mail me at jane.doe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111 was charged."
    masked = mask_personal_data(text)
    assert masked is not None
    assert "jane.doe" not in masked and EMAIL_MASK in masked
    assert "7946" not in masked and PHONE_MASK in masked
    assert "4111" not in masked and CARD_MASK in masked


def test_ordinary_numbers_survive() -> None:
    text = "Bought 2 packs for $25.99 in 2023, size 10.5, rated 5/5."
    assert mask_personal_data(text) == text


def test_non_luhn_long_number_is_not_called_a_card() -> None:
    assert CARD_MASK not in (mask_personal_data("order 1234567812345678") or "")


def test_pseudonyms_are_stable_and_secret_dependent() -> None:
    assert pseudonymise("U1", "s") == pseudonymise("U1", "s")
    assert pseudonymise("U1", "s") != pseudonymise("U1", "t")
    assert pseudonymise("U1", "s") != pseudonymise("U2", "s")
    assert pseudonymise(None, "s") is None


@given(st.text(max_size=300))
def test_masking_never_fails_and_keeps_text_without_digits_or_at(text: str) -> None:
    masked = mask_personal_data(text)
    if not any(character.isdigit() for character in text) and "@" not in text:
        assert masked == text
