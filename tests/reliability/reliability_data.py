"""Small generated shop data for the reliability tests (catalog, reviews, events as CSV bytes)."""

from __future__ import annotations

from recengine.ingest import IngestSource

KINDS = ["phone", "headphones", "kettle", "shoe", "lamp", "backpack"]
PHRASES = [
    "the battery life is great",
    "the screen cracked after a week",
    "sound quality is excellent",
    "shipping was fast",
    "it fits perfectly",
    "the handle feels cheap",
    "very comfortable to wear",
    "terrible customer service",
]


def catalog_csv(count: int = 60, *, start: int = 0, edition: str = "") -> bytes:
    lines = ["item_id,title,brand,category,price,description"]
    for number in range(start, start + count):
        kind = KINDS[number % len(KINDS)]
        lines.append(
            f"P{number:04d},{kind.title()} {number}{edition},Brand{number % 5},Shop > {kind},"
            f"{10 + number % 40}.5,A {kind} that customers like {number % 7}"
        )
    return ("\n".join(lines) + "\n").encode()


def reviews_csv(count: int, *, start: int = 0, items: int = 60, users: int = 80) -> bytes:
    lines = ["review_id,user_id,item_id,rating,title,text,timestamp"]
    for number in range(start, start + count):
        phrase = PHRASES[number % len(PHRASES)]
        other = PHRASES[(number * 3 + 1) % len(PHRASES)]
        lines.append(
            f"R{number:05d},U{number % users:03d},P{(number * 7) % items:04d},{1 + number % 5},"
            f"Review {number},\"{phrase}, and {other}.\",2024-01-{1 + number % 28:02d}"
        )
    return ("\n".join(lines) + "\n").encode()


def events_csv(count: int, *, start: int = 0, items: int = 60, users: int = 80) -> bytes:
    lines = ["interaction_id,user_id,item_id,event,timestamp"]
    for number in range(start, start + count):
        event = ("view", "click", "cart", "purchase")[number % 4]
        lines.append(
            f"E{number:06d},U{number % users:03d},P{(number * 11) % items:04d},{event},2024-02-{1 + number % 28:02d}"
        )
    return ("\n".join(lines) + "\n").encode()


def source(kind: str, name: str, data: bytes) -> IngestSource:
    return IngestSource(kind, name, data)  # type: ignore[arg-type]
