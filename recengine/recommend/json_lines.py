"""One customer's explained list as a line of JSON text, the export's format, written fast.

`json.dumps(record, ensure_ascii=False)` of `Recommendation.to_dict()` first builds a dict for every
attribution entry and every contribution (about 60 per customer), then encodes each of their keys and
values as a separate string that is joined at the end. For the jsonl export that is most of what the
attribution adds to its cost. Here the attribution of a recommendation is formatted from the records
directly: one %-format of a template made once per shape (how many contributions each entry lists),
which C code fills in one pass. The rest of the record goes through the json encoder as before.

The text is byte for byte `json.dumps(recommendation_record(...), ensure_ascii=False)` (tested): the
same key order, separators, string escapes (json's own `encode_basestring`) and number text (`str` of
a float is its `repr`, which json writes) for values of the records' declared types. What the templates
would write differently (a float that is not finite, a string field that holds something else) makes
that recommendation's attribution go through the json encoder instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.encoder import encode_basestring

from recengine.recommend.results import ComponentAttribution, Recommendation, attribution_dict

_ENCODER = json.JSONEncoder(ensure_ascii=False)
# An empty attribution as the encoder writes it: its quotes cannot occur unescaped inside a JSON string,
# so in an encoded record this text is exactly the `attribution` key of each recommendation.
_EMPTY_ATTRIBUTION = '"attribution": []'
_CONTRIBUTION = '{"item_id": %s, "amount": %s, "weight": %s, "link": %s, "disliked": %s, "action": %s}'
_ENTRY_HEAD = '{"component": %s, "value": %s, "source": %s, "contributions": ['
_ENTRY_TAIL = '], "unlisted": %s, "interest": %s}'
_TRUE_FALSE = ("false", "true")


def recommendation_record(user_id: str, recommendations: Sequence[Recommendation]) -> dict[str, object]:
    """The jsonl line of DESIGN.md as a dict: user_id and the recommendations with their explanations."""
    return {"user_id": user_id, "recommendations": [item.to_dict() for item in recommendations]}


def recommendation_json_line(user_id: str, recommendations: Sequence[Recommendation]) -> str:
    """`recommendation_record(user_id, recommendations)` as one line of JSON text, newline included."""
    record = {"user_id": user_id, "recommendations": [item.to_dict(attribution=False) for item in recommendations]}
    pieces = _ENCODER.encode(record).split(_EMPTY_ATTRIBUTION)
    text = [pieces[0]]
    for item, piece in zip(recommendations, pieces[1:], strict=True):
        text.append('"attribution": ')
        text.append(attribution_json(item.explanation.attribution))
        text.append(piece)
    text.append("\n")
    return "".join(text)


def attribution_json(attribution: Sequence[ComponentAttribution]) -> str:
    """The JSON text of one recommendation's attribution (`[attribution_dict(entry), ...]` encoded)."""
    if not attribution:
        return "[]"
    values: list[object] = []
    shape = []
    try:
        for entry in attribution:
            contributions = entry.contributions
            shape.append(len(contributions))
            values += (encode_basestring(entry.component), entry.value, encode_basestring(entry.source))
            for part in contributions:
                # A bool indexes the pair; anything else json would write otherwise raises TypeError.
                values += (encode_basestring(part.item_id), part.amount, part.weight, part.link,
                           _TRUE_FALSE[part.disliked], encode_basestring(part.action))
            values += (entry.unlisted, "null" if entry.interest is None else entry.interest)
    except TypeError:
        return _encoded(attribution)
    shape_key = tuple(shape)
    text = (_TEMPLATES.get(shape_key) or _template(shape_key)) % tuple(values)
    # Rare enough to check the text rather than every number: a float that is not finite reads "nan" or
    # "inf" in %s text, NaN or Infinity in json's (a string that holds those letters costs a re-encode).
    if "nan" in text or "inf" in text:
        return _encoded(attribution)
    return text


_TEMPLATES: dict[tuple[int, ...], str] = {}


def _template(shape: tuple[int, ...]) -> str:
    """The %-template of an attribution whose entries list `shape` contributions each (made once)."""
    entries = [_ENTRY_HEAD + ", ".join([_CONTRIBUTION] * count) + _ENTRY_TAIL for count in shape]
    template = _TEMPLATES[shape] = "[" + ", ".join(entries) + "]"
    return template


def _encoded(attribution: Sequence[ComponentAttribution]) -> str:
    """The json encoder's text of an attribution (the reference the templates match)."""
    return _ENCODER.encode([attribution_dict(entry) for entry in attribution])
