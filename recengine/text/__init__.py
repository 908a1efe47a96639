"""Review intelligence: key phrases, aspects and sentiment of customer reviews.

Entry points: `analyze_reviews` (incremental, persisted in the workspace), and the read functions
`item_keywords`, `review_sentiment`, `reviews_with_analysis`. Models load lazily, never at import.
"""

from __future__ import annotations

from recengine.config import ENCODER_TUNING_CHOICES
from recengine.text.analysis import AnalysisReport, analyze_reviews
from recengine.text.sentiment_prior import save_sentiment_prior
from recengine.text.sentiment_stage import save_encoder_tuning
from recengine.text.summaries import analysis_state, item_keywords, review_sentiment, reviews_with_analysis

__all__ = [
    "ENCODER_TUNING_CHOICES",
    "AnalysisReport",
    "analysis_state",
    "analyze_reviews",
    "item_keywords",
    "review_sentiment",
    "reviews_with_analysis",
    "save_encoder_tuning",
    "save_sentiment_prior",
]
