"""One customer's explained list as a line of JSON text, the export's format, written fast.

`json.dumps(record, ensure_ascii=False)` of `Recommendation.to_dict()` builds a dict for every
attribution entry and every contribution (about 60 per customer), then encodes each of their keys and
values as a separate string; for the jsonl export that was most of what the attribution added to its
cost. Here the rest of the record goes through the json encoder as before, and the attribution's text
is spliced in where the encoder wrote an empty one:

- a list the recommender made carries its text (`AttributionList.json_text`), made with the records
  of the whole chunk of lists at once (`contribution_lists_json`, `float_texts`: each distinct number
  and string formatted once, the text of all the chunk's contributions one join);
- any other list (built by hand, `from_dict`, a copy or a pickle) is formatted from its records with
  a %-template per shape (`attribution_json`).

Either way the text is byte for byte what `json.dumps` writes (tested): the same key order,
separators, string escapes (json's own `encode_basestring`) and numbers (json writes a finite float as
its `repr`), for values of the records' declared types; what a template would write differently (a
float that is not finite, a string field that holds something else) goes through the json encoder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring

import numpy as np

from recengine.recommend.results import ComponentAttribution, Recommendation, attribution_dict

_ENCODER = json.JSONEncoder(ensure_ascii=False)
# An empty attribution as the encoder writes it: its quotes cannot occur unescaped inside a JSON string,
# so in an encoded record this text is exactly the `attribution` key of each recommendation.
_EMPTY_ATTRIBUTION = '"attribution": []'
_CONTRIBUTION = '{"item_id": %s, "amount": %s, "weight": %s, "link": %s, "disliked": %s, "action": %s}'
_ENTRY_HEAD = '{"component": %s, "value": %s, "source": %s, "contributions": ['
_ENTRY_TAIL = '], "unlisted": %s, "interest": %s}'
ENTRY = _ENTRY_HEAD + "%s" + _ENTRY_TAIL  # every value already JSON text
# Ends each list in a joined text: json escapes it inside strings, so splitting there finds the lists.
_LIST_BREAK = "\x00"
_TRUE_FALSE = ("false", "true")
_TRUE_FALSE_TEXTS = np.array(_TRUE_FALSE, dtype=object)


def recommendation_record(user_id: str, recommendations: Sequence[Recommendation]) -> dict[str, object]:
    """The jsonl line of DESIGN.md as a dict: user_id and the recommendations with their explanations."""
    return {"user_id": user_id, "recommendations": [item.to_dict() for item in recommendations]}


def recommendation_json_line(user_id: str, recommendations: Sequence[Recommendation]) -> str:
    """`recommendation_record(user_id, recommendations)` as one line of JSON text, newline included."""
    record = {"user_id": user_id, "recommendations": [item.to_dict(attribution=False) for item in recommendations]}
    pieces = _ENCODER.encode(record).split(_EMPTY_ATTRIBUTION)
    text = [pieces[0]]
    for item, piece in zip(recommendations, pieces[1:], strict=True):
        attribution = item.explanation.attribution
        made = getattr(attribution, "json_text", None)  # the recommender's lists carry theirs (AttributionList)
        text.append('"attribution": ')
        text.append(attribution_json(attribution) if made is None else made)
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


def float_texts(values: np.ndarray) -> np.ndarray:
    """json's text of each float of `values` (an object array of str), each distinct value formatted once.

    A float's text is its `repr` (what json writes) when it is finite, json's own words otherwise. The
    repr takes Python about half a microsecond; an export's weights and links repeat (a chunk's
    contributions hold about half as many distinct numbers as numbers).
    """
    # Distinct bit patterns, not values: 0.0 and -0.0 are equal but written differently.
    patterns, inverse = np.unique(np.ascontiguousarray(values, dtype=np.float64).view(np.int64), return_inverse=True)
    distinct = patterns.view(np.float64)
    texts = np.array(list(map(float.__repr__, distinct.tolist())), dtype=object)
    if not np.isfinite(distinct).all():
        texts[np.isnan(distinct)] = "NaN"
        texts[distinct == np.inf] = "Infinity"
        texts[distinct == -np.inf] = "-Infinity"
    return texts[inverse.ravel()]


@dataclass(frozen=True)
class Coded:
    """Strings given as the distinct ones and, per value, its index into them."""

    distinct: list[str]
    index: np.ndarray

    def values(self) -> list[str]:
        """The strings themselves, in order."""
        return np.array(self.distinct, dtype=object)[self.index].tolist() if self.index.size else []

    def texts(self) -> np.ndarray:
        """json's text of each value (an object array), each distinct string encoded once."""
        return np.array([encode_basestring(value) for value in self.distinct], dtype=object)[self.index]


def contribution_lists_json(
    counts: Sequence[int], item_ids: Coded, amounts: np.ndarray, weights: np.ndarray, links: np.ndarray,
    disliked: np.ndarray, actions: Coded,
) -> list[str]:
    """The JSON text of consecutive lists of contributions, without their brackets: list i holds the
    next `counts[i]` contributions (`attribution_dict`'s fields of each, in order).

    Strings come coded (`Coded`: the distinct ones and each contribution's index into them), so each
    is encoded once; the numbers are formatted once per distinct value (`float_texts`) and the text of
    all the lists is one join. Every list holds at least one contribution.
    """
    size = amounts.size
    if size == 0:
        return ["" for _ in counts]
    # The text's pieces in a table, a row per contribution: field names and values alternate, and the
    # row's last piece closes it, then goes on to the next contribution of its list or breaks the list.
    # One join of all the pieces (object arrays throughout: a list of str would become a numpy string
    # array and back).
    pieces = np.empty((size, len(_CONTRIBUTION_PIECES) * 2 + 1), dtype=object)
    pieces[:, 0:-1:2] = _CONTRIBUTION_PIECES
    pieces[:, 1] = item_ids.texts()
    pieces[:, 3:9:2] = float_texts(np.concatenate([amounts, weights, links])).reshape(3, size).T
    pieces[:, 9] = _TRUE_FALSE_TEXTS[np.asarray(disliked, dtype=np.intp)]
    pieces[:, 11] = actions.texts()
    pieces[:, -1] = "}, "
    pieces[np.cumsum(counts) - 1, -1] = "}" + _LIST_BREAK
    lists = "".join(pieces.ravel().tolist()).split(_LIST_BREAK)
    if len(lists) != len(counts) + 1:  # pragma: no cover - the break character is escaped in every string
        raise AssertionError("a contribution's text held the list break")
    return lists[:-1]


_CONTRIBUTION_PIECES = np.array(
    ['{"item_id": ', ', "amount": ', ', "weight": ', ', "link": ', ', "disliked": ', ', "action": '], dtype=object
)


