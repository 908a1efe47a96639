"""Item-to-item collaborative signal: who interacted with one item also interacted with the other.

Built once at fit as a sparse items x items matrix (scipy), pruned to the strongest neighbours per item,
so a user's scores are one sparse vector-matrix product. Two ways to build it:
- `item_similarity`: co-occurrence normalised like a shrunk cosine (any catalog size; also what
  explanations, similar items and bundles read, because its values are facts about co-purchases);
- `ease_weights`: EASE (H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019),
  a ridge regression predicting each item from all the others. It discounts items that are only
  bought together because both are popular; on Amazon Magazine (all ratings, 2,428 items) it lifted the
  hybrid's validation NDCG@10 from 0.156 to 0.192. It inverts a dense items x items matrix, so it is
  limited to catalogs of up to `max_items` interacted items.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)


def item_similarity(
    presence: sparse.csr_matrix,
    *,
    alpha: float = 0.5,
    shrink: float = 5.0,
    neighbours: int = 100,
) -> sparse.csr_matrix:
    """Item-item similarity from a users x items matrix.

    `sim(i, j) = co(i, j) / (n_i^alpha * n_j^(1 - alpha) + shrink)` where `co` is the (weighted)
    number of users who have both and `n` the number who have each: alpha 0.5 is cosine, alpha 1 is
    the conditional probability P(j | i). The shrink term damps pairs seen by very few users. Each row
    keeps its `neighbours` largest values; the diagonal is zero.

    Returns:
        float32 CSR matrix, items x items, row i = items similar to i.
    """
    items = presence.shape[1]
    if presence.nnz == 0:
        return sparse.csr_matrix((items, items), dtype=np.float32)
    matrix = presence.astype(np.float32).tocsr()
    co = (matrix.T @ matrix).tocsr()
    counts = np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel().astype(np.float32)
    co.setdiag(0)
    co.eliminate_zeros()
    rows = np.repeat(np.arange(items), np.diff(co.indptr))
    denominator = np.power(counts[rows], alpha) * np.power(counts[co.indices], 1.0 - alpha) + shrink
    co.data = (co.data / np.maximum(denominator, 1e-9)).astype(np.float32)
    return top_per_row(co, neighbours)


def ease_weights(presence: sparse.csr_matrix, *, l2: float) -> np.ndarray:
    """EASE item-item weights, dense (items, items), from a users x items matrix (binarised).

    B = I - P / diag(P) with P = (X'X + l2 I)^-1, diagonal forced to 0: column j holds how much each other
    item predicts j. Items nobody interacted with get all-zero rows and columns.
    """
    items = presence.shape[1]
    # float32 when l2 >= 1: the Gram matrix holds integer counts (exact in float32 up to 16 million users per
    # pair) and such a ridge keeps it well conditioned, so single precision loses nothing a ranking can see
    # (top-10 of 200 users identical at 5,000 items, weights within 1e-7), with half the memory per dense
    # copy and 1.6x the speed (bench/bench_recommend.py at 10,000 items: 30 s against 48 s). A smaller l2 is
    # solved in float64.
    dtype = np.float32 if l2 >= 1.0 else np.float64
    binary = presence.tocsc().astype(dtype)
    binary.data[:] = 1.0
    active = np.flatnonzero(np.diff(binary.indptr))  # only interacted items enter the inversion
    weights = np.zeros((items, items), dtype=np.float32)
    if active.size == 0:
        return weights
    block = binary[:, active]
    gram = (block.T @ block).toarray()
    gram[np.diag_indices_from(gram)] += l2
    solved = _symmetric_inverse(gram)  # gram is overwritten: at 10,000 items each dense copy is 400 MB
    solved /= -np.diag(solved)[None, :]
    np.fill_diagonal(solved, 0.0)
    weights[np.ix_(active, active)] = solved
    return weights


def _symmetric_inverse(matrix: np.ndarray, block: int = 1024) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky (LAPACK potrf + potri), in place.

    Half the arithmetic of a general inverse (np.linalg.inv's LU; 1.5x faster at 3,000 items on 2
    cores). potri fills the upper triangle only; the lower one is mirrored in row blocks so that no
    second full-size copy is made. float32 and float64 matrices are inverted in their own precision.
    """
    from scipy.linalg import lapack

    potrf, potri = (lapack.spotrf, lapack.spotri) if matrix.dtype == np.float32 else (lapack.dpotrf, lapack.dpotri)
    # The transpose of a C-ordered symmetric matrix is the same matrix in Fortran order: LAPACK then
    # works in the caller's memory instead of on a copy.
    factor, info = potrf(matrix.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factorisation failed (LAPACK info {info}).")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky inverse failed (LAPACK info {info}).")
    size = inverse.shape[0]
    for start in range(0, size, block):
        stop = min(start + block, size)
        inverse[start:stop, :start] = inverse[:start, start:stop].T
        diagonal = inverse[start:stop, start:stop]
        inverse[start:stop, start:stop] = np.triu(diagonal) + np.triu(diagonal, 1).T
    return inverse


def ease_similarity(
    presence: sparse.csr_matrix, *, l2: float, neighbours: int = 100, max_items: int = 10_000
) -> sparse.csr_matrix | None:
    """EASE weights as a sparse matrix: positive weights only, `neighbours` largest per row.

    Returns None (the caller keeps co-occurrence) when more than `max_items` items have interactions:
    the inversion costs items^3 time and about 11 x items^2 bytes (bench/bench_recommend.py: 30 s and
    1.1 GB at 10,000 items on 2 cores).
    """
    interacted = int(np.count_nonzero(np.diff(presence.tocsc().indptr)))
    if interacted > max_items:
        logger.warning(
            "EASE asked for but %s items have interactions (limit %s): using co-occurrence instead.",
            f"{interacted:,}", f"{max_items:,}",
        )
        return None
    weights = ease_weights(presence, l2=l2)
    weights[weights < 0] = 0.0  # negative evidence is not shown as a score component
    return top_per_row(sparse.csr_matrix(weights), neighbours)


def top_per_row(matrix: sparse.csr_matrix, keep: int) -> sparse.csr_matrix:
    """Keep the `keep` largest entries of every row of a CSR matrix (vectorised, no Python loop)."""
    matrix = matrix.tocsr()
    lengths = np.diff(matrix.indptr)
    if lengths.size == 0 or lengths.max(initial=0) <= keep:
        matrix.sort_indices()
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    order = np.lexsort((-matrix.data, rows))
    ranks = np.arange(order.size) - matrix.indptr[rows[order]]
    kept = order[ranks < keep]
    pruned = sparse.csr_matrix(
        (matrix.data[kept], (rows[kept], matrix.indices[kept])), shape=matrix.shape
    )
    pruned.sort_indices()
    return pruned


def user_scores(
    positions: np.ndarray, weights: np.ndarray, similarity: sparse.csr_matrix
) -> np.ndarray:
    """Collaborative score of every item for one user: sum of history weight x item similarity.

    Args:
        positions: the user's history items.
        weights: their confidence (positive).
        similarity: items x items from `item_similarity`.
    """
    scores = np.zeros(similarity.shape[1], dtype=np.float32)
    if positions.size == 0 or similarity.nnz == 0:
        return scores
    # Gather only the rows of the history items, straight from the CSR arrays (scipy's fancy row
    # indexing costs more than the arithmetic at this size).
    starts = similarity.indptr[positions]
    lengths = similarity.indptr[np.asarray(positions) + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return scores
    # Entry k of the gathered rows is stored at its row's start + its offset within the row.
    row_starts = np.cumsum(lengths) - lengths
    gather = np.arange(total) + np.repeat(starts - row_starts, lengths)
    row_weight = np.repeat(np.asarray(weights, dtype=np.float32), lengths)
    scores += np.bincount(
        similarity.indices[gather], weights=similarity.data[gather] * row_weight, minlength=len(scores)
    ).astype(np.float32)
    return scores
