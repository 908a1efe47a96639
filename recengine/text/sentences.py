"""Splitting review text into sentences and clauses.

Reviews are informal: lower-case sentence starts, missing spaces, ellipses, line breaks used as
sentence ends. A regular-expression splitter that knows a few abbreviations is accurate enough here and
costs microseconds per review, which matters at 100k reviews; a statistical splitter would not change
the aspect or sentiment results measurably.

Clauses matter for aspect sentiment: "great value, runs smoothly, but the camera is mediocre" holds
three opinions, so a sentence is cut at contrastive conjunctions first (the opinion turns there) and
then at commas and semicolons.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "inc", "ltd",
     "jr", "sr", "fig", "oz", "lb", "lbs", "ft", "in", "cm", "mm", "min", "max", "est"}
)

# A sentence ends at . ! ? (possibly repeated, possibly followed by a closing quote or bracket) followed
# by whitespace, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\s*[\r\n]+\s*")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")

# Conjunctions where the opinion usually turns ("good sound but poor battery").
CONTRASTIVE = ("but", "however", "although", "though", "yet", "whereas", "while", "except", "unfortunately")
_CONTRAST_SPLIT = re.compile(
    r"\s*(?:[,;:]\s*)?\b(?:" + "|".join(CONTRASTIVE) + r")\b[,]?\s*",
    re.IGNORECASE,
)
# "and" joins two opinions as often as two nouns ("fits well and is comfortable"); cutting there is safe
# because a clause without sentiment of its own borrows its segment's (see aspects.py).
_CLAUSE_SPLIT = re.compile(r"\s*[,;:]\s*|\s+-{1,2}\s+|\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    """One opinion-sized piece of a sentence.

    Attributes:
        text: the clause as written (stripped).
        segment: the contrastive segment the clause belongs to, used when the clause alone carries
            no sentiment ("the battery, sadly, died": the clause "the battery" borrows from its segment).
        sentence: the whole sentence, used as a quote.
    """

    text: str
    segment: str
    sentence: str


def split_sentences(text: str | None) -> list[str]:
    """Split review text into sentences (empty pieces dropped).

    Args:
        text: review text; None or blank gives an empty list.

    Returns:
        The sentences in order, stripped.
    """
    if not text or not text.strip():
        return []
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].strip()
        if not candidate:
            start = match.end()
            continue
        # "Dr. Smith" or "approx. 3 hours": do not end the sentence after a known abbreviation.
        last = _LAST_WORD.search(candidate)
        if last and last.group(1).lower().rstrip(".") in _ABBREVIATIONS and "\n" not in match.group(0):
            continue
        pieces.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def split_clauses(sentence: str) -> list[Clause]:
    """Split one sentence into clauses, at contrastive conjunctions and then at commas/semicolons.

    Args:
        sentence: one sentence.

    Returns:
        Clauses in order; a sentence without separators gives one clause.
    """
    clauses: list[Clause] = []
    for segment in _CONTRAST_SPLIT.split(sentence):
        segment = segment.strip(" ,;:.!?")
        if not segment:
            continue
        for piece in _CLAUSE_SPLIT.split(segment):
            piece = piece.strip(" ,;:.!?")
            if piece:
                clauses.append(Clause(text=piece, segment=segment, sentence=sentence.strip()))
    return clauses


def after_contrast(sentence: str) -> str | None:
    """The part of a sentence after its last contrastive conjunction, or None when it has none.

    "Great price but it broke after two days" -> "it broke after two days": in reviews the opinion
    after the turn is usually the one the stars follow.
    """
    pieces = _CONTRAST_SPLIT.split(sentence)
    if len(pieces) < 2:
        return None
    tail = pieces[-1].strip(" ,;:.!?")
    return tail or None


def review_text(title: str | None, text: str | None) -> str:
    """The text analysed for one review: its title as a first sentence, then its body."""
    title = (title or "").strip()
    body = (text or "").strip()
    if title and body:
        # Titles rarely end with punctuation; add one so the title stays its own sentence.
        return f"{title}{'' if title[-1] in '.!?' else '.'} {body}"
    return title or body


def as_text(value: object) -> str | None:
    """A stored title or body as text: None for missing values (None, NaN, pandas' NA)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def review_texts(reviews: pd.DataFrame) -> list[str]:
    """The analysed text ("title. body") of every review of a frame, in frame order."""
    return [review_text(as_text(title), as_text(text)) for title, text in zip(reviews["title"], reviews["text"], strict=True)]
