"""Candidates from several sources, merged, so that no single signal crowds out the others.

Semantic neighbours of each interest vector (FAISS via the ItemIndex contract, or a clustered scan),
items co-occurring with the history, and popular and trending items each contribute their own top
`count`; the hybrid then scores the union. A pure text match cannot push out what customers
demonstrably buy together, because co-occurring items get their own seats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recengine.recommend.protocols import CandidateSource, UserContext

# Share of `count` each source proposes: popular and trending items are fallbacks, not the main act.
SOURCE_SHARE = {"semantic": 1.0, "collaborative": 1.0, "popularity": 0.5, "recency": 0.25}


def merge_candidates(
    sources: Sequence[CandidateSource], context: UserContext, count: int
) -> np.ndarray:
    """Unique candidate positions from all sources, in order of first appearance.

    Args:
        sources: candidate sources (each also a scorer of the hybrid).
        context: the user's request context.
        count: candidates per source before the source's share is applied.
    """
    proposals = [
        source.candidates(context, max(1, int(count * SOURCE_SHARE.get(source.name, 1.0))))
        for source in sources
    ]
    proposals = [proposal for proposal in proposals if proposal.size]
    if not proposals:
        return np.zeros(0, dtype=np.int64)
    joined = np.concatenate(proposals)
    _, first = np.unique(joined, return_index=True)
    return joined[np.sort(first)]


def candidate_origins(
    sources: Sequence[CandidateSource], context: UserContext, count: int
) -> dict[str, np.ndarray]:
    """Which source proposed what (for diagnostics and tests)."""
    return {source.name: source.candidates(context, count) for source in sources}
