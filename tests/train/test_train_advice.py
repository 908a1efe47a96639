"""The activation advice weighs new products (held out, never trained on) against held-out customers."""

from __future__ import annotations

from recengine.train.advice import NEW_PRODUCTS, WARM, activation_advice
from recengine.train.new_products import P_VALUE, PREFIX
from recengine.train.registry import ModelVersion


def version(new: tuple[float, float] | None, warm: tuple[float, float] | None, p_value: float | None = 0.01) -> ModelVersion:
    before, after = {}, {}
    if new is not None:
        before[NEW_PRODUCTS], after[NEW_PRODUCTS] = new
        if p_value is not None:
            after[PREFIX + P_VALUE] = p_value
    if warm is not None:
        before[WARM], after[WARM] = warm
    return ModelVersion("v2", "2026-12-07", "base", "v2", metrics_before=before, metrics_after=after)


def test_better_on_new_products_and_holding_the_rest_is_activated() -> None:
    advice = activation_advice(version((0.40, 0.46), (0.30, 0.299)))
    assert advice.startswith("Activate v2: it ranks new products better")
    assert "0.400 -> 0.460 (+15.0%, significant)" in advice and "(-0.3%)" in advice


def test_a_trade_off_is_named_as_one() -> None:
    advice = activation_advice(version((0.40, 0.46), (0.30, 0.27)))
    assert "costs the products customers already buy" in advice and "if new arrivals matter more" in advice


def test_a_gain_within_the_noise_is_not_a_reason_to_switch() -> None:
    assert activation_advice(version((0.40, 0.41), (0.30, 0.30), p_value=0.4)).startswith("Keep the current encoder")
    assert "within the noise" in activation_advice(version((0.40, 0.41), None, p_value=0.4))


def test_without_measurements_it_says_what_to_do() -> None:
    assert "Evaluation page" in activation_advice(version(None, None))


def test_the_cpu_estimate_matches_the_measured_fine_tunes() -> None:
    from recengine.train.advice import expected_cpu_finetune_seconds

    # docs/BENCHMARKS.md: 87 s for the demo's 640 products, 193 s for Magazine's 2,428 (2-core CPU).
    assert abs(expected_cpu_finetune_seconds(640) - 87) < 15
    assert abs(expected_cpu_finetune_seconds(2_428) - 193) < 15
    assert expected_cpu_finetune_seconds(0) > 0
