"""The English a query parser understands, in one place: extend a tuple to teach it a shop's own words.

    from dataclasses import replace
    from recengine.recommend.intent_rules import ENGLISH
    rules = replace(ENGLISH, cheap_words=(*ENGLISH.cheap_words, "bon marché"), upper_cues=(*ENGLISH.upper_cues, "unter"))

then `CatalogVocabulary.from_catalog(catalog, rules)` (or `intent_match.vocabulary_for(model, rules)`).
"""

from __future__ import annotations

from dataclasses import dataclass


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
    # Conjunctions left with nothing to join once the constraints around them are read ("over $20 and
    # under $40 jazz" -> "jazz", not "and jazz"); one between kept words stays ("jazz and blues").
    dangling_conjunctions: tuple[str, ...] = ("and", "or", "&", "but")
    brand_suffixes: tuple[str, ...] = ("inc", "llc", "ltd", "limited", "corp", "corporation", "co", "company", "gmbh", "plc", "sa", "ag")
    generic_names: tuple[str, ...] = (
        "other", "others", "general", "misc", "miscellaneous", "all", "more", "new", "sale", "unknown", "none", "na",
        "n a", "various", "generic", "unbranded", "default", "item", "items", "product", "products", "see more",
    )
    max_name_words: int = 6  # longer category parts are descriptions that leaked into the path
    fuzzy_min_length: int = 5  # typos are corrected in words of at least this many letters, by one edit


ENGLISH = IntentRules()
