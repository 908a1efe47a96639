"""What a typed query asks for: price limits, a minimum rating, exclusions, and the categories and brands
it names, read against the workspace's own catalog.

`parse_query(text, vocabulary)` turns "cheap jazz albums under $20, not vinyl" into a frozen
`QueryIntent`: the free text that is left ("albums"), the text the encoder should read ("jazz albums"),
and one `Constraint` per thing the query asked for. Hard constraints (price, rating, exclusions) filter
results; soft ones (a category or brand the query names) boost them (see `intent_match.py`).

Every English word the parser knows is in `IntentRules` (one place: a shop extends it with
`dataclasses.replace(ENGLISH, cheap_words=ENGLISH.cheap_words + ("bon marché",))`). Names come only from
the catalog (`CatalogVocabulary`): a word that matches no category or brand stays in the free text, so
the parser never invents a constraint the shop cannot check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from recengine.recommend.catalog import Catalog

ConstraintKind = Literal["price", "rating", "category", "brand", "exclude"]
AddConstraint = Callable[[int, int, "Constraint"], None]
HARD_KINDS: tuple[str, ...] = ("price", "rating", "exclude")


@dataclass(frozen=True)
class IntentRules:
    """The English a query parser understands. Extend a tuple to teach it a shop's own words.

    Phrases are matched as whole words, case-insensitively, longest first.
    """

    currency_symbols: str = "$€£"
    currency_words: tuple[str, ...] = ("dollars", "dollar", "usd", "bucks", "buck", "euros", "euro", "eur", "pounds", "gbp", "quid")
    # "under 50" is a price limit unless a unit follows ("under 5 lbs") or an age precedes ("kids under 5").
    non_price_units: tuple[str, ...] = (
        "year", "years", "yr", "yrs", "month", "months", "week", "weeks", "day", "days", "hour", "hours", "minute",
        "minutes", "min", "mins", "second", "seconds", "lb", "lbs", "kg", "kgs", "g", "gram", "grams", "oz", "ounce",
        "ounces", "inch", "inches", "in", "cm", "mm", "m", "ft", "feet", "foot", "meter", "meters", "w", "watt",
        "watts", "v", "volt", "volts", "mah", "gb", "tb", "mb", "ml", "l", "liter", "liters", "litre", "litres",
        "piece", "pieces", "pcs", "pack", "people", "players", "page", "pages", "issue", "issues", "%", "percent",
        "star", "stars", "degrees",
    )
    age_words: tuple[str, ...] = (
        "kid", "kids", "child", "children", "baby", "babies", "toddler", "toddlers", "boy", "boys", "girl", "girls",
        "teen", "teens", "men", "women", "adults", "seniors", "age", "ages", "aged", "people", "dogs", "cats",
    )
    # Upper limits. The first group takes a bare number ("under 50"); the second needs a currency ("up to $50").
    upper_cues: tuple[str, ...] = ("under", "below", "less than", "cheaper than", "lower than", "budget under", "budget of", "budget", "max price", "price under", "price below")
    upper_cues_with_currency: tuple[str, ...] = ("up to", "at most", "no more than", "not more than", "max", "maximum", "within", "for less than", "<", "<=")
    upper_suffixes: tuple[str, ...] = ("or less", "and under", "and below", "or under", "or cheaper", "max", "maximum", "tops")
    lower_cues: tuple[str, ...] = ("over", "above", "more than", "pricier than")
    lower_cues_with_currency: tuple[str, ...] = ("at least", "starting at", "from", "min", "minimum", "upwards of", ">", ">=")
    lower_suffixes: tuple[str, ...] = ("and up", "and above", "or more", "and over", "plus", "+")
    around_cues: tuple[str, ...] = ("around", "about", "approximately", "roughly", "circa", "~", "for about", "close to")
    around_tolerance: float = 0.2  # "around $50" = 40..60
    range_cues: tuple[tuple[str, str], ...] = (("between", "and"), ("from", "to"), ("between", "to"))
    # Relative price bands: a quantile of the prices of the catalog (of the categories named, when they
    # have enough prices of their own).
    cheap_words: tuple[str, ...] = (
        "cheap", "cheaper", "cheapest", "budget", "inexpensive", "affordable", "low cost", "low-cost", "low priced",
        "low-priced", "bargain", "economical", "not expensive", "not too expensive", "not very expensive",
    )
    premium_words: tuple[str, ...] = (
        "premium", "luxury", "luxurious", "high end", "high-end", "upscale", "expensive", "top end", "top-end",
        "high priced", "high-priced", "deluxe",
    )
    cheap_quantile: float = 1 / 3
    premium_quantile: float = 2 / 3
    relative_band_minimum_prices: int = 10  # fewer prices in the named categories: use the whole catalog's
    relative_band_minimum_share: float = 0.2  # a catalog with prices on fewer of its products has no "cheap"
    # Minimum rating.
    rating_words: tuple[str, ...] = ("star", "stars")
    rating_up_words: tuple[str, ...] = ("and up", "and above", "or more", "or higher", "or better", "and higher", "plus", "+")
    rating_cues: tuple[str, ...] = ("at least", "minimum", "minimum of", "min", "over", "above", "rated", "rated at least", "rating", "rating of", "rating of at least", "rated over")
    good_rating_words: tuple[str, ...] = ("top rated", "top-rated", "highly rated", "highly-rated", "best rated", "best-rated", "well rated", "well-rated", "well reviewed", "well-reviewed")
    good_rating: float = 4.0
    # Exclusions. After a cue from `name_only_exclusion_cues`, only a catalog name is excluded ("no fees"
    # describes a product more often than it rules one out).
    exclusion_cues: tuple[str, ...] = ("not", "without", "no", "except", "excluding", "exclude", "but not", "other than", "minus", "anything but")
    name_only_exclusion_cues: tuple[str, ...] = ("no",)
    not_excludable: tuple[str, ...] = (
        "a", "an", "the", "any", "too", "very", "so", "that", "more", "less", "only", "just", "sure", "really",
        "much", "quite", "for", "with", "and", "or", "in", "on", "to", "of", "my", "your", "it", "be", "from",
        "older", "newer", "bigger", "smaller", "big", "small", "cheap", "expensive",
    )
    skip_after_exclusion: tuple[str, ...] = ("a", "an", "the", "any")
    # Names: words dropped when comparing names ("Hunting & Firearms" = "hunting and firearms" = "hunting
    # firearms"), legal suffixes of brands, and names too generic to count as a mention.
    connector_words: tuple[str, ...] = ("and", "&", "the", "n")
    brand_suffixes: tuple[str, ...] = ("inc", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh", "plc", "sa", "ag")
    generic_names: tuple[str, ...] = (
        "other", "others", "general", "misc", "miscellaneous", "all", "more", "new", "sale", "unknown", "none", "na",
        "n a", "various", "generic", "unbranded", "default", "item", "items", "product", "products", "see more",
    )
    max_name_words: int = 6  # longer category parts are descriptions that leaked into the path
    fuzzy_min_length: int = 5  # typos are corrected in words of at least this many letters, by one edit


ENGLISH = IntentRules()


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


# -- names of the catalog ----------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|&")


def singular(word: str) -> str:
    """A crude English singular, applied to both sides of every comparison (so it need not be right)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "'s")):
        return word[:-2] if word.endswith("'s") else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def name_words(text: str, rules: IntentRules = ENGLISH) -> tuple[str, ...]:
    """The words of a name or query span as compared: lower case, singular, no connectors."""
    connectors = set(rules.connector_words)
    return tuple(singular(word) for word in _TOKEN.findall(text.lower().replace("’", "'")) if word not in connectors)


@dataclass(frozen=True)
class NameTarget:
    """A category or brand of the catalog that a run of query words can name."""

    kind: Literal["category", "brand"]
    name: str


@dataclass
class CatalogVocabulary:
    """The catalog's own categories and brands by the words that name them, plus its prices.

    Built once per fitted model (`intent_match.vocabulary_for`); read-only afterwards.
    """

    catalog: Catalog
    names: dict[tuple[str, ...], tuple[NameTarget, ...]]
    longest_name: int
    name_word_index: dict[str, set[str]]  # one-deletion variant -> name words (typo correction)
    catalog_words: frozenset[str]  # every word of titles, brands, categories: never "corrected"
    rules: IntentRules = ENGLISH
    _band_cache: dict[tuple[object, ...], float | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_catalog(cls, catalog: Catalog, rules: IntentRules = ENGLISH, catalog_words: Iterable[str] | None = None) -> CatalogVocabulary:
        """Index every category part and brand of `catalog` under the word sequences that name it.

        "Arts, Music & Photography" is named by its whole and by each of its parts ("music"); a brand
        also by its name without a legal suffix ("Acme Inc." -> "acme").
        """
        names: dict[tuple[str, ...], set[NameTarget]] = {}
        generic = {name_words(text, rules) for text in rules.generic_names}

        def add(words: tuple[str, ...], target: NameTarget) -> None:
            if not words or words in generic or all(word.isdigit() for word in words) or len("".join(words)) < 2:
                return
            names.setdefault(words, set()).add(target)

        for part in _category_parts(catalog.categories, rules):
            target = NameTarget("category", part)
            add(name_words(part, rules), target)
            pieces = [piece for piece in re.split(r",|&|\band\b|/", part.lower()) if piece.strip()]
            if len(pieces) > 1:
                for piece in pieces:
                    add(name_words(piece, rules), target)
        suffixes = set(rules.brand_suffixes)
        for brand in {str(value).strip() for value in catalog.brands}:
            if not brand or len(brand) > 80:
                continue
            target = NameTarget("brand", brand)
            words = name_words(brand, rules)
            add(words, target)
            trimmed = words
            while trimmed and trimmed[-1] in suffixes:
                trimmed = trimmed[:-1]
            if trimmed != words:
                add(trimmed, target)
        frozen = {words: tuple(sorted(targets, key=lambda item: (item.kind, item.name))) for words, targets in names.items()}
        word_index: dict[str, set[str]] = {}
        for words in frozen:
            for word in words:
                if len(word) >= rules.fuzzy_min_length - 1:
                    for variant in _deletions(word):
                        word_index.setdefault(variant, set()).add(word)
        if catalog_words is None:
            text = " ".join(str(value) for value in (*catalog.titles, *catalog.brands, *catalog.categories)).lower()
            catalog_words = _TOKEN.findall(text)
        known = frozenset(singular(word) for word in catalog_words)
        return cls(
            catalog=catalog,
            names=frozen,
            longest_name=max((len(words) for words in frozen), default=1),
            name_word_index=word_index,
            catalog_words=known,
            rules=rules,
        )

    def correct(self, word: str) -> str:
        """A catalog name's word one edit away from `word`, when `word` is a typo (not a catalog word)."""
        if len(word) < self.rules.fuzzy_min_length or word in self.catalog_words or word.isdigit():
            return word
        found: set[str] = set()
        for variant in (word, *_deletions(word)):
            found |= self.name_word_index.get(variant, set())
        close = sorted(candidate for candidate in found if _one_edit(word, candidate))
        return close[0] if len(close) == 1 else word

    def relative_band(self, band: str, categories: tuple[str, ...]) -> float | None:
        """The price at the band's quantile: of the named categories' items when they have enough prices."""
        key = (band, categories)
        if key not in self._band_cache:
            quantile = self.rules.cheap_quantile if band == "cheap" else self.rules.premium_quantile
            prices = self.catalog.prices
            if categories:
                mask = np.zeros(self.catalog.size, dtype=bool)
                for name in categories:
                    mask |= self.catalog.category_mask(name)
                inside = prices[mask]
                if np.count_nonzero(~np.isnan(inside)) >= self.rules.relative_band_minimum_prices:
                    prices = inside
            known = prices[~np.isnan(prices)]
            enough = known.size >= self.rules.relative_band_minimum_prices and (
                known.size >= self.rules.relative_band_minimum_share * prices.size
            )
            self._band_cache[key] = round(float(np.quantile(known, quantile)), 2) if enough else None
        return self._band_cache[key]


def _category_parts(categories: np.ndarray, rules: IntentRules) -> set[str]:
    parts: set[str] = set()
    for path in {str(value) for value in categories}:
        for part in path.split(">"):
            part = part.strip()
            if part and len(part) <= 60 and len(part.split()) <= rules.max_name_words and "<" not in part:
                parts.add(part)
    return parts


def _deletions(word: str) -> list[str]:
    return [word[:index] + word[index + 1:] for index in range(len(word))]


def _one_edit(first: str, second: str) -> bool:
    """Levenshtein distance 1, or one swap of neighbouring letters."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        diffs = [index for index in range(len(first)) if first[index] != second[index]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and first[diffs[0]] == second[diffs[1]] and first[diffs[1]] == second[diffs[0]]
    shorter, longer = (first, second) if len(first) < len(second) else (second, first)
    return any(longer[:index] + longer[index + 1:] == shorter for index in range(len(longer)))


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


def _alternatives(phrases: Iterable[str]) -> str:
    """A regex alternation of phrases, longest first, spaces matching any run of spaces or hyphens."""
    ordered = sorted({phrase.strip().lower() for phrase in phrases if phrase.strip()}, key=len, reverse=True)
    return "|".join(r"[\s-]+".join(re.escape(word) for word in phrase.split()) for phrase in ordered)


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
        self.taken = np.zeros(len(text), dtype=bool)

    def free(self, start: int, end: int) -> bool:
        return not self.taken[start:end].any()

    def take(self, start: int, end: int) -> str:
        self.taken[start:end] = True
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
        if any(replace(item, phrase="") == constraint for _, item in found):
            return  # the same constraint typed twice ("upscale, luxury") is one
        found.append((start, replace(constraint, phrase=phrase)))
        if constraint.hard:
            hard_spans.append((start, end))

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
    query_text = _without_spans(text, hard_spans)
    free_text = _without_spans(text, [(index, index + 1) for index in np.flatnonzero(reader.taken)], words_only=True)
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


def _without_spans(text: str, spans: Iterable[tuple[int, int]], *, words_only: bool = False) -> str:
    """`text` less `spans`, spaces collapsed; punctuation left alone where nothing was cut (the encoder reads
    it), and punctuation left dangling by a cut dropped ("jazz, under $20" -> "jazz")."""
    keep = np.ones(len(text), dtype=bool)
    for start, end in spans:
        keep[start:end] = False
    if keep.all() and not words_only:
        return " ".join(text.split())
    kept = "".join(character if keep[index] else " " for index, character in enumerate(text))
    pieces = [word.strip(",;:.!?") if words_only else word for word in kept.split()]
    pieces = [piece for piece in pieces if piece.strip(",;:.!?-–")]
    return " ".join(pieces).strip(",;:").strip()

