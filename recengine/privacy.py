"""Personal data in free text: masking for display and export, pseudonymous ids for export.

Reviews contain whatever customers typed, including e-mail addresses, phone numbers and card numbers.
The stored text stays verbatim (nothing is lost); what leaves the workspace through the dashboard or an
export is masked unless the workspace's settings say otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

import pandas as pd

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes: candidates, confirmed by the Luhn checksum so
# that order numbers and EANs are left alone more often than not.
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# International or national numbers with at least 8 digits, allowing spaces, dots, dashes, brackets.
_PHONE = re.compile(r"(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}(?![\w])")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_personal_data(text: str | None) -> str | None:
    """Replace e-mail addresses, card numbers (Luhn-valid) and phone numbers with placeholders."""
    if not text:
        return text
    masked = _EMAIL.sub(EMAIL_MASK, text)

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return CARD_MASK if _luhn_valid(digits) else match.group(0)

    masked = _CARD.sub(card, masked)

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return PHONE_MASK if len(digits) >= 8 else match.group(0)

    return _PHONE.sub(phone, masked)


def pseudonymise(identifier: str | None, secret: str) -> str | None:
    """A stable pseudonym for an id: the same id and secret always give the same pseudonym."""
    if identifier is None:
        return None
    digest = hmac.new(secret.encode("utf-8"), identifier.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"u_{digest[:16]}"


def mask_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """A copy of `frame` with personal data masked in the text `columns` it has (others untouched).

    A column of lists of dicts (aspect quotes: `[{"text": ...}, ...]`) has each dict's "text" masked.
    """
    result = frame.copy()
    for column in columns:
        if column not in result.columns:
            continue
        result[column] = result[column].map(_mask_value)
    return result


def _mask_value(value: object) -> object:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, list):
        return [
            {**item, "text": mask_personal_data(item["text"])} if isinstance(item, dict) and isinstance(item.get("text"), str) else item
            for item in value
        ]
    return value
