"""What a typed query asks for: price limits, a minimum rating, exclusions, and the categories and brands
it names, read against the workspace's own catalog.

`parse_query(text, vocabulary)` turns "cheap jazz albums under $20, not vinyl" into a frozen
`QueryIntent`: the free text that is left ("albums"), the text the encoder should read ("jazz albums"),
and one `Constraint` per thing the query asked for. Hard constraints (price, rating, exclusions) filter
results; soft ones (a category or brand the query names) boost them (see `intent_match.py`).

Every English word the parser knows is in `IntentRules` (intent_rules.py, one place a shop extends).
Names come only from the catalog (`CatalogVocabulary`, intent_vocabulary.py): a word that matches no category or brand stays in the free text, so
the parser never invents a constraint the shop cannot check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from recengine.recommend.intent_rules import ENGLISH, IntentRules
from recengine.recommend.intent_vocabulary import CatalogVocabulary, NameTarget, name_words, singular

__all__ = [
    "ENGLISH", "CatalogVocabulary", "Constraint", "IntentRules", "QueryIntent", "name_words", "parse_query", "singular",
]

ConstraintKind = Literal["price", "rating", "category", "brand", "exclude"]
AddConstraint = Callable[[int, int, "Constraint"], None]
HARD_KINDS: tuple[str, ...] = ("price", "rating", "exclude")


@dataclass(frozen=True)
class Constraint:
    """One thing the query asked for.

    Attributes:
        kind: price | rating (hard: filter) | category | brand (soft: boost) | exclude (hard).
        phrase: the words of the query it was read from.
        names: catalog categories or brands named (category, brand, exclude of a name); the word for
            an excluded term.
        target: what an exclusion rules out: category | brand | term ('' otherwise).
        low: price lower bound, or minimum stars.
        high: price upper bound.
        band: 'cheap' or 'premium' for a relative price band ('' for a stated price).
    """

    kind: ConstraintKind
    phrase: str
    names: tuple[str, ...] = ()
    target: str = ""
    low: float | None = None
    high: float | None = None
    band: str = ""

    @property
    def hard(self) -> bool:
        """Hard constraints filter results; soft ones only boost."""
        return self.kind in HARD_KINDS

    @property
    def label(self) -> str:
        """Short text for a chip or a table: 'price ≤ 50', 'category: Jazz', 'not vinyl'."""
        if self.kind == "price":
            band = f"{self.band}: " if self.band else ""
            if self.low is not None and self.high is not None:
                return f"{band}price {self.low:g}–{self.high:g}"
            if self.high is not None:
                return f"{band}price ≤ {self.high:g}"
            return f"{band}price ≥ {self.low:g}"
        if self.kind == "rating":
            return f"rating ≥ {self.low:g} stars"
        if self.kind == "exclude":
            return "not " + " / ".join(self.names)
        return f"{self.kind}: " + " / ".join(self.names)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "label": self.label, "hard": self.hard, "phrase": self.phrase,
            "names": list(self.names), "target": self.target, "low": self.low, "high": self.high, "band": self.band,
        }


@dataclass(frozen=True)
class QueryIntent:
    """A typed query read as a free-text need plus constraints.

    Attributes:
        text: the query as typed.
        free_text: the words that matched nothing (what is left of the need).
        query_text: what the encoder and the word match read: the query without its price, rating and
            exclusion phrases (named categories and brands stay: they describe the need too).
        constraints: in the order they appear in the query.
    """

    text: str
    free_text: str
    query_text: str
    constraints: tuple[Constraint, ...] = ()

    @classmethod
    def literal(cls, text: str) -> QueryIntent:
        """The query read as plain words, with no constraint (what search did before intents)."""
        return cls(text=text, free_text=text.strip(), query_text=text.strip())

    @property
    def hard(self) -> tuple[Constraint, ...]:
        return tuple(constraint for constraint in self.constraints if constraint.hard)

    @property
    def soft(self) -> tuple[Constraint, ...]:
        return tuple(constraint for constraint in self.constraints if not constraint.hard)

    def of_kind(self, kind: str) -> tuple[Constraint, ...]:
        return tuple(constraint for constraint in self.constraints if constraint.kind == kind)

    def without(self, removed: Iterable[Constraint]) -> QueryIntent:
        """The same intent less some constraints (a chip removed on the Search page).

        A removed exclusion, price or rating phrase does not go back into the text the encoder reads:
        the words "under $50" would only add noise to the match.
        """
        gone = set(removed)
        return replace(self, constraints=tuple(item for item in self.constraints if item not in gone))

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text, "free_text": self.free_text, "query_text": self.query_text,
            "constraints": [constraint.to_dict() for constraint in self.constraints],
        }


# -- parsing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patterns:
    rating: re.Pattern[str]
    good_rating: re.Pattern[str]
    ranges: tuple[re.Pattern[str], ...]
    dash_range: tuple[re.Pattern[str], ...]
    upper: re.Pattern[str]
    upper_currency: re.Pattern[str]
    upper_suffix: re.Pattern[str]
    lower: re.Pattern[str]
    lower_currency: re.Pattern[str]
    lower_suffix: re.Pattern[str]
    around: re.Pattern[str]
    cheap: re.Pattern[str]
    premium: re.Pattern[str]
    exclusion: re.Pattern[str]
    word: re.Pattern[str]


def _cue(phrases: Iterable[str]) -> str:
    """Alternation with word boundaries where a phrase starts or ends with a letter ("<" has none)."""
    parts = []
    for phrase in sorted({phrase.strip().lower() for phrase in phrases if phrase.strip()}, key=len, reverse=True):
        body = r"[\s-]+".join(re.escape(word) for word in phrase.split())
        start = r"\b" if phrase[0].isalnum() else ""
        end = r"\b" if phrase[-1].isalnum() else ""
        parts.append(f"{start}{body}{end}")
    return "(?:" + "|".join(parts) + ")"


@lru_cache(maxsize=8)
def _patterns(rules: IntentRules) -> _Patterns:
    symbol = f"[{re.escape(rules.currency_symbols)}]"
    word = _cue(rules.currency_words)
    number = r"(\d[\d,]*(?:\.\d+)?)"
    # A money amount: "$50", "50 dollars", "$50.00 usd"; `bare` also accepts "50" alone.
    money = rf"(?:{symbol}\s*{number}(?:\s*{word})?|{number}\s*{word})"
    bare = rf"(?:{symbol}\s*)?{number}(?:\s*{word})?"
    unit = _cue(rules.non_price_units)
    not_unit = rf"(?!\s*{unit})(?![\d.,])"
    stars = _cue(rules.rating_words)
    rating_value = r"(?<![\d.])([0-5](?:\.\d)?)"
    up = _cue(rules.rating_up_words)
    flags = re.I
    return _Patterns(
        rating=re.compile(
            rf"(?:{_cue(rules.rating_cues)}\s*)?{rating_value}\s*(?:\+\s*)?-?\s*{stars}(?:\s*{up})?"
            rf"|\brat(?:ed|ing)(?:\s+of)?(?:\s+at\s+least)?\s+{rating_value}\s*{up}",
            flags,
        ),
        good_rating=re.compile(_cue(rules.good_rating_words), flags),
        ranges=tuple(
            re.compile(rf"\b{re.escape(first)}\s+{bare}\s*(?:{re.escape(second)})\s+{bare}{not_unit}", flags)
            for first, second in rules.range_cues
        ),
        dash_range=(
            re.compile(rf"{symbol}\s*{number}\s*(?:-|–|to)\s*(?:{symbol}\s*)?{number}(?:\s*{word})?", flags),
            re.compile(rf"\b{number}\s*(?:-|–|to)\s*{number}\s*{word}", flags),
        ),
        upper=re.compile(rf"{_cue(rules.upper_cues)}\s*{bare}{not_unit}", flags),
        upper_currency=re.compile(rf"{_cue(rules.upper_cues_with_currency)}\s*{money}", flags),
        upper_suffix=re.compile(rf"{money}\s*{_cue(rules.upper_suffixes)}", flags),
        lower=re.compile(rf"{_cue(rules.lower_cues)}\s*{bare}{not_unit}", flags),
        lower_currency=re.compile(rf"{_cue(rules.lower_cues_with_currency)}\s*{money}", flags),
        lower_suffix=re.compile(rf"{money}\s*{_cue(rules.lower_suffixes)}", flags),
        around=re.compile(rf"{_cue(rules.around_cues)}\s*{money}", flags),
        cheap=re.compile(_cue(rules.cheap_words), flags),
        premium=re.compile(_cue(rules.premium_words), flags),
        exclusion=re.compile(rf"{_cue(rules.exclusion_cues)}[\s-]+", flags),
        word=re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|&", flags),
    )


def _amount(groups: Iterable[str | None]) -> list[float]:
    return [float(value.replace(",", "")) for value in groups if value]


class _Reader:
    """The query with the spans already read, so that each phrase counts once."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Character by character, so positions in `lowered` are positions in `text` ("İ".lower() is two).
        self.lowered = "".join(lower if len(lower := character.lower()) == 1 else character for character in text).replace("’", "'")
        self.taken = bytearray(len(text))  # 1 where a phrase was read (a bytearray: queries are short)

    def free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def take(self, start: int, end: int) -> str:
        self.taken[start:end] = b"\x01" * (end - start)
        return self.text[start:end].strip()

    def matches(self, pattern: re.Pattern[str]) -> Iterable[re.Match[str]]:
        for match in pattern.finditer(self.lowered):
            if self.free(*match.span()):
                yield match

    def remaining(self, pattern: re.Pattern[str]) -> list[tuple[str, int, int]]:
        return [(match.group(), *match.span()) for match in pattern.finditer(self.lowered) if self.free(*match.span())]


def parse_query(text: str, vocabulary: CatalogVocabulary | None = None, rules: IntentRules | None = None) -> QueryIntent:
    """Read a typed query into a `QueryIntent`.

    Args:
        text: the query as typed.
        vocabulary: the catalog's names and prices (None: no category, brand or relative price is read).
        rules: the English understood (default: the vocabulary's, else `ENGLISH`).
    """
    rules = rules or (vocabulary.rules if vocabulary is not None else ENGLISH)
    patterns = _patterns(rules)
    reader = _Reader(text or "")
    found: list[tuple[int, Constraint]] = []  # (start, constraint): ordered as typed at the end
    hard_spans: list[tuple[int, int]] = []

    def add(start: int, end: int, constraint: Constraint) -> None:
        phrase = reader.take(start, end)
        if constraint.hard:
            hard_spans.append((start, end))
        if any(replace(item, phrase="") == constraint for _, item in found):
            return  # the same constraint typed twice ("upscale, luxury") is one
        found.append((start, replace(constraint, phrase=phrase)))

    _read_ratings(reader, patterns, rules, add)
    _read_prices(reader, patterns, rules, add)
    bands: list[tuple[int, int, str]] = []
    for pattern, band in ((patterns.cheap, "cheap"), (patterns.premium, "premium")):
        # Cheap first, so that "not too expensive" is read once, as cheap.
        for match in list(reader.matches(pattern)):
            reader.take(*match.span())
            hard_spans.append(match.span())
            bands.append((*match.span(), band))
    _read_exclusions(reader, patterns, rules, vocabulary, add)
    if vocabulary is not None:
        _read_mentions(reader, patterns, vocabulary, add)
    categories = tuple(name for _, constraint in found if constraint.kind == "category" for name in constraint.names)
    for start, end, band in bands:
        limit = vocabulary.relative_band(band, categories) if vocabulary is not None else None
        if limit is not None:
            low, high = (None, limit) if band == "cheap" else (limit, None)
            add(start, end, Constraint("price", "", low=low, high=high, band=band))
    found.sort(key=lambda pair: pair[0])
    conjunctions = frozenset(rules.dangling_conjunctions)
    query_text = _without_spans(text, hard_spans, conjunctions=conjunctions)
    free_text = _without_spans(
        text, [(index, index + 1) for index, taken in enumerate(reader.taken) if taken], words_only=True,
        conjunctions=conjunctions,
    )
    return QueryIntent(text=text, free_text=free_text, query_text=query_text, constraints=tuple(constraint for _, constraint in found))


def _read_ratings(reader: _Reader, patterns: _Patterns, rules: IntentRules, add: AddConstraint) -> None:
    for match in list(reader.matches(patterns.rating)):
        values = _amount(match.groups())
        if values and 0 < values[0] <= 5:
            add(*match.span(), Constraint("rating", "", low=values[0]))
    for match in list(reader.matches(patterns.good_rating)):
        add(*match.span(), Constraint("rating", "", low=rules.good_rating))


def _read_prices(reader: _Reader, patterns: _Patterns, rules: IntentRules, add: AddConstraint) -> None:
    ages = set(rules.age_words)

    def after_age(start: int) -> bool:
        before = reader.lowered[:start].split()
        return bool(before) and before[-1] in ages

    for pattern in (*patterns.ranges, *patterns.dash_range):
        for match in list(reader.matches(pattern)):
            values = _amount(match.groups())
            if len(values) == 2:
                low, high = sorted(values)
                add(*match.span(), Constraint("price", "", low=low, high=high))
    for match in list(reader.matches(patterns.around)):
        value = _amount(match.groups())[0]
        add(*match.span(), Constraint("price", "", low=round(value * (1 - rules.around_tolerance), 2),
                                      high=round(value * (1 + rules.around_tolerance), 2)))
    # Cues before suffixes: "over $20 and under $40" is two limits, not "$20 and under".
    for pattern, upper in (
        (patterns.upper_currency, True), (patterns.upper, True), (patterns.lower_currency, False),
        (patterns.lower, False), (patterns.upper_suffix, True), (patterns.lower_suffix, False),
    ):
        for match in list(reader.matches(pattern)):
            if after_age(match.start()):
                continue
            value = _amount(match.groups())[0]
            add(*match.span(), Constraint("price", "", high=value) if upper else Constraint("price", "", low=value))


def _read_exclusions(
    reader: _Reader, patterns: _Patterns, rules: IntentRules, vocabulary: CatalogVocabulary | None, add: AddConstraint
) -> None:
    name_only = set(rules.name_only_exclusion_cues)
    skip = set(rules.skip_after_exclusion)
    unwanted = set(rules.not_excludable)
    for match in list(reader.matches(patterns.exclusion)):
        cue = " ".join(match.group().lower().split())
        words = [(word.lower(), start, end) for word, start, end in reader.remaining(patterns.word) if start >= match.end()]
        while words and words[0][0] in skip:
            words = words[1:]
        if not words or not reader.free(match.end(), words[0][1]):
            continue  # something already read sits between the cue and its word
        named = _longest_name(words, vocabulary) if vocabulary is not None else None
        if named is not None:
            end, targets = named
            kinds = {target.kind for target in targets}
            target = kinds.pop() if len(kinds) == 1 else "category"
            add(match.start(), end, Constraint("exclude", "", names=tuple(item.name for item in targets), target=target))
        elif cue not in name_only and words[0][0] not in unwanted and not words[0][0].isdigit():
            word, _, end = words[0]
            add(match.start(), end, Constraint("exclude", "", names=(word,), target="term"))


def _read_mentions(reader: _Reader, patterns: _Patterns, vocabulary: CatalogVocabulary, add: AddConstraint) -> None:
    words = [(word.lower(), start, end) for word, start, end in reader.remaining(patterns.word)]
    index = 0
    while index < len(words):
        # Runs of words never jump over a phrase already read ("jazz under $20 vinyl").
        run = [words[index]]
        for following in words[index + 1:]:
            if not reader.free(run[-1][2], following[1]):
                break
            run.append(following)
        named = _longest_name(run, vocabulary)
        if named is None:
            index += 1
            continue
        end, targets = named
        start = words[index][1]
        # Words naming both a category and a brand give one constraint of each kind.
        for kind in ("category", "brand"):
            chosen = tuple(target.name for target in targets if target.kind == kind)
            if chosen:
                add(start, end, Constraint(kind, "", names=chosen))  # type: ignore[arg-type]
        while index < len(words) and words[index][1] < end:
            index += 1


def _longest_name(words: list[tuple[str, int, int]], vocabulary: CatalogVocabulary) -> tuple[int, tuple[NameTarget, ...]] | None:
    """The longest catalog name that the first words spell (typos corrected), as (end, targets)."""
    rules = vocabulary.rules
    connectors = set(rules.connector_words)
    if not words or words[0][0] in connectors and (len(words) < 2 or words[1][0] in connectors):
        return None  # a leading "the" is part of the name that follows it ("the north face")
    spelled: list[str] = []
    ends: list[int] = []
    for word, _, end in words[: vocabulary.longest_name + 3]:
        if word in connectors:
            continue
        spelled.append(vocabulary.correct(singular(word)))
        ends.append(end)
    for count in range(min(len(spelled), vocabulary.longest_name), 0, -1):
        targets = vocabulary.names.get(tuple(spelled[:count]))
        if targets:
            return ends[count - 1], targets
    return None


def _without_spans(
    text: str, spans: Iterable[tuple[int, int]], *, words_only: bool = False, conjunctions: frozenset[str] = frozenset()
) -> str:
    """`text` less `spans`, spaces collapsed; punctuation left alone where nothing was cut (the encoder reads
    it), and punctuation or a conjunction left dangling by a cut dropped ("jazz, under $20" -> "jazz";
    "over $20 and under $40 jazz" -> "jazz")."""
    keep = [True] * len(text)
    for start, end in spans:
        keep[start:end] = [False] * (end - start)
    if all(keep) and not words_only:
        return " ".join(text.split())
    kept = "".join(character if keep[index] else " " for index, character in enumerate(text))
    words = [(match.group(), match.start(), match.end()) for match in re.finditer(r"\S+", kept)]

    def cut_or_edge(index: int, step: int) -> bool:
        # The nearest character that is not a space, going `step` from `index`, was cut (or there is none).
        while 0 <= index < len(text) and text[index].isspace():
            index += step
        return not 0 <= index < len(text) or not keep[index]

    pieces = [
        word.strip(",;:.!?") if words_only else word
        for word, start, end in words
        if not (
            word.lower().strip(",;:.!?") in conjunctions
            and not all(keep)
            and cut_or_edge(start - 1, -1)
            and cut_or_edge(end, 1)
        )
    ]
    pieces = [piece for piece in pieces if piece.strip(",;:.!?-–")]
    return " ".join(pieces).strip(",;:").strip()

