"""What to tell a merchandiser about fine-tuning: whether to switch to a tuned encoder, in one sentence
they can act on, and how long a fine-tune will take before they start one.

A fine-tune is measured twice before anyone switches (`finetune.py`, `new_products.py`): on products held
out as new (never trained on; Recall@20 among new products) and on customers held out of training (the
hybrid's NDCG@10 with the tuned vectors). The advice weighs both: new products are what a content encoder is
for, warm products are what most lists show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recengine.train.new_products import P_VALUE, PREFIX

if TYPE_CHECKING:
    from recengine.train.registry import ModelVersion

NEW_PRODUCTS = PREFIX + "recall@20"
WARM = "hybrid ndcg@10"
WARM_TOLERANCE = 0.01  # a relative loss on warm products below this is read as "holds"


def _change(version: ModelVersion, metric: str) -> tuple[float, float, float] | None:
    before, after = version.metrics_before.get(metric), version.metrics_after.get(metric)
    if before is None or after is None:
        return None
    return before, after, (after - before) / before if before else 0.0


def activation_advice(version: ModelVersion) -> str:
    """What the measurements say about activating `version` (a registry entry with before/after metrics)."""
    if version.is_base:
        return "The base encoder: nothing to compare."
    new = _change(version, NEW_PRODUCTS)
    warm = _change(version, WARM)
    parts = []
    new_better = False
    if new is not None:
        before, after, relative = new
        p_value = version.metrics_after.get(PREFIX + P_VALUE)
        significant = p_value is not None and p_value < 0.05
        new_better = relative > 0 and significant
        verdict = "significant" if significant else "within the noise" if p_value is not None else "untested"
        parts.append(f"new products Recall@20 {before:.3f} -> {after:.3f} ({relative:+.1%}, {verdict})")
    warm_loses = False
    if warm is not None:
        before, after, relative = warm
        warm_loses = relative < -WARM_TOLERANCE
        parts.append(f"recommendations to held-out customers NDCG@10 {before:.3f} -> {after:.3f} ({relative:+.1%})")
    if not parts:
        return f"{version.version_id} has no before/after measurements; compare it on the Evaluation page first."
    figures = "; ".join(parts)
    if new_better and not warm_loses:
        return f"Activate {version.version_id}: it ranks new products better and keeps the rest ({figures})."
    if new_better:
        return (f"{version.version_id} ranks new products better but costs the products customers already buy "
                f"({figures}): activate it if new arrivals matter more to this shop.")
    if warm is not None and not warm_loses and warm[2] > WARM_TOLERANCE:
        return f"Activate {version.version_id}: it recommends better to held-out customers ({figures})."
    return f"Keep the current encoder: {version.version_id} is not measurably better ({figures})."


# `recengine finetune` with the default settings (a linear head on the frozen encoder) on the 2-core
# project machine at load 2-3: 87 s for the demo's 640 products, 193 s for Magazine's 2,428 (docs/
# BENCHMARKS.md, "Fine-tuning on customers' choices"). Most of it is the encoder reading each product once
# and the before/after measurements; the head's training takes seconds.
CPU_FIXED_SECONDS = 50.0
CPU_SECONDS_PER_PRODUCT = 0.06


def expected_cpu_finetune_seconds(products: int) -> float:
    """Roughly how long a default fine-tune of a catalog of `products` takes on a 2-core CPU."""
    return CPU_FIXED_SECONDS + CPU_SECONDS_PER_PRODUCT * max(0, products)
