"""What text is embedded for a product or a review, from the templates in `settings.embed`.

A template is a Python format string over the row's fields, e.g. "{title}. {brand}. {category}.
{description}". Empty fields are dropped together with the separator written before them, so a product
without a brand reads "Title. Category. Description", not "Title. . Category". A leading literal
("Product: ") is always kept; a trailing one only when the last field is present.
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from recengine.errors import ConfigError

_LEADING_SEPARATORS = " .,;:-|/\n\t"


@dataclass(frozen=True)
class TextTemplate:
    """A parsed template: (literal before the field, field name) pairs plus a trailing literal."""

    source: str
    parts: tuple[tuple[str, str], ...]
    tail: str

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(field for _literal, field in self.parts)

    def render(self, row: Mapping[str, object]) -> str:
        """The text for one row; missing or empty fields are left out with their separator."""
        pieces: list[str] = []
        emitted = last_emitted = False
        for index, (literal, field) in enumerate(self.parts):
            value = _as_text(row.get(field))
            if index == 0:
                pieces.append(literal)  # a leading literal ("Product: ") is kept even if the field is empty
            last_emitted = bool(value)
            if not value:
                continue
            if index > 0:
                pieces.append(literal if emitted else literal.lstrip(_LEADING_SEPARATORS))
            pieces.append(value)
            emitted = True
        text = "".join(pieces)
        # The trailing literal closes the last field ("({brand})"), so it goes when that field does.
        if last_emitted and self.tail:
            text += self.tail
        return text.strip()


def parse_template(template: str, allowed_fields: Iterable[str] | None = None, *, setting: str = "") -> TextTemplate:
    """Parse and validate a template.

    Raises:
        ConfigError: invalid syntax, a format spec, or a field the table does not have.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ConfigError(f"Template {setting or template!r} is not a valid format string: {error}.") from error
    parts: list[tuple[str, str]] = []
    tail = ""
    pending = ""
    for literal, field, format_spec, conversion in parsed:
        if field is None:
            pending += literal
            continue
        if format_spec or conversion or not field.isidentifier():
            raise ConfigError(
                f"Template {setting or template!r}: use plain fields like {{title}}, not {{{field}...}}."
            )
        parts.append((pending + literal, field))
        pending = ""
    tail = pending
    if not parts:
        raise ConfigError(f"Template {setting or template!r} names no field.", hint="For example: {title}. {description}")
    if allowed_fields is not None:
        allowed = set(allowed_fields)
        unknown = [field for _literal, field in parts if field not in allowed]
        if unknown:
            raise ConfigError(
                f"Template {setting or template!r} uses unknown field(s) {', '.join(unknown)}.",
                hint=f"Available: {', '.join(sorted(allowed))}.",
            )
    return TextTemplate(template, tuple(parts), tail)


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_as_text(part) for part in value if _as_text(part))
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return ""
    except ImportError:  # pragma: no cover
        pass
    return str(value).strip()
