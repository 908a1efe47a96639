"""Text templates: empty fields vanish with their separator; bad templates are refused clearly."""

from __future__ import annotations

import pytest

from recengine.embed.templates import parse_template
from recengine.errors import ConfigError


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"title": "Kettle", "brand": "Acme", "category": "Home", "description": "Boils."}, "Kettle. Acme. Home. Boils."),
        ({"title": "Kettle", "brand": None, "category": float("nan"), "description": "Boils."}, "Kettle. Boils."),
        ({"title": "", "brand": "Acme", "category": None, "description": None}, "Acme"),
        ({}, ""),
    ],
)
def test_item_template_drops_empty_parts(row, expected):
    assert parse_template("{title}. {brand}. {category}. {description}").render(row) == expected


def test_leading_and_trailing_literals():
    template = parse_template("Product: {title} ({brand})")
    assert template.render({"title": "Kettle", "brand": "Acme"}) == "Product: Kettle (Acme)"
    assert template.render({"title": "", "brand": "Acme"}) == "Product: (Acme)"
    assert template.render({"title": 3.5, "brand": None}) == "Product: 3.5"
    assert parse_template("{title}.").render({"title": "Kettle"}) == "Kettle."


def test_bad_templates():
    with pytest.raises(ConfigError, match="unknown field"):
        parse_template("{title} {nope}", {"title"})
    with pytest.raises(ConfigError, match="plain fields"):
        parse_template("{title:>10}")
    with pytest.raises(ConfigError, match="names no field"):
        parse_template("just text")
    with pytest.raises(ConfigError, match="not a valid"):
        parse_template("{title")
