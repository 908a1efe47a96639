"""Reviews whose stars and text disagree, for a person to look at.

Two kinds:
- polarity: 4-5 stars on a text that reads negative, or 1-2 stars on one that reads positive (often a
  rating slip, sometimes sarcasm, sometimes a review of the delivery rather than the product);
- complaint: 5 stars with a clearly negative aspect ("love it, but the strap broke after a week"),
  which a merchandiser wants to see even though the customer is happy overall.

Severity orders the list: polarity mismatches by how far the text's score is from what the stars imply,
complaints after them by how negative the aspect is.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from recengine.workspace import Workspace

TEXT_NEGATIVE = -0.25
TEXT_POSITIVE = 0.35
COMPLAINT = -0.4

MISMATCH_COLUMNS = [
    "review_id", "item_id", "rating", "sentiment_label", "sentiment_score", "kind", "reason", "severity",
    "title", "text", "timestamp",
]


def find_mismatches(frame: pd.DataFrame, limit: int | None = 200) -> pd.DataFrame:
    """Mismatched reviews in a frame of reviews joined with their analysis.

    Args:
        frame: columns review_id, item_id, rating, title, text, timestamp, sentiment_label,
            sentiment_score, aspects (JSON), as `reviews_with_analysis` returns.
        limit: most rows returned (most severe first); None for all.

    Returns:
        Frame with MISMATCH_COLUMNS, most severe first.
    """
    if frame.empty or "sentiment_score" not in frame:
        return pd.DataFrame(columns=MISMATCH_COLUMNS)
    rated = frame[frame["rating"].notna() & frame["sentiment_score"].notna()]
    rows: list[dict[str, object]] = []
    for record in rated.to_dict("records"):
        rating = float(record["rating"])
        score = float(record["sentiment_score"])
        expected = (rating - 3.0) / 2.0  # 1 star -> -1, 5 stars -> +1
        base = {key: record.get(key) for key in MISMATCH_COLUMNS if key in record}
        if rating >= 4 and (score <= TEXT_NEGATIVE or record.get("sentiment_label") == "negative"):
            rows.append(base | {
                "kind": "polarity",
                "reason": f"{rating:.0f} stars, but the text reads negative (score {score:+.2f}).",
                "severity": round(1.0 + abs(expected - score), 4),
            })
            continue
        if rating <= 2 and (score >= TEXT_POSITIVE or record.get("sentiment_label") == "positive"):
            rows.append(base | {
                "kind": "polarity",
                "reason": f"{rating:.0f} star{'s' if rating != 1 else ''}, but the text reads positive (score {score:+.2f}).",
                "severity": round(1.0 + abs(expected - score), 4),
            })
            continue
        if rating >= 5:
            complaint = _worst_aspect(record.get("aspects"))
            if complaint is not None and float(complaint["sentiment"]) <= COMPLAINT:
                rows.append(base | {
                    "kind": "complaint",
                    "reason": f"5 stars, but complains about {complaint['aspect']}: \"{complaint['quote']}\"",
                    "severity": round(abs(float(complaint["sentiment"])), 4),
                })
    if not rows:
        return pd.DataFrame(columns=MISMATCH_COLUMNS)
    result = pd.DataFrame(rows)
    for column in MISMATCH_COLUMNS:
        if column not in result:
            result[column] = None
    result = result[MISMATCH_COLUMNS].sort_values(["severity", "review_id"], ascending=[False, True])
    return result.head(limit).reset_index(drop=True) if limit is not None else result.reset_index(drop=True)


def _worst_aspect(raw: object) -> dict[str, object] | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        mentions = json.loads(raw)
    except ValueError:
        return None
    if not mentions:
        return None
    return min(mentions, key=lambda mention: float(mention.get("sentiment", 0.0)))


def workspace_mismatches(workspace: Workspace, limit: int | None = 200) -> pd.DataFrame:
    """Mismatched reviews of the whole workspace (empty before analysis)."""
    from recengine.text.summaries import reviews_with_analysis

    return find_mismatches(reviews_with_analysis(workspace), limit)
