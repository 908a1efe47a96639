"""Settings of one fine-tuning run, as a dataclass with help text per field.

Modelled on sentence-transformers' `SentenceTransformerTrainingArguments`: every field carries its help
in `metadata["help"]`, which the CLI and the dashboard show next to the setting, so that there is one
place where a default and its explanation live.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

from recengine.errors import ConfigError

HoldOut = Literal["test_users", "test_items"]
Objective = Literal["pairs", "interactions"]
OBJECTIVES = ("pairs", "interactions")


def _help(text: str, **extra: Any) -> dict[str, Any]:
    return {"help": text, **extra}


@dataclass(frozen=True)
class FineTuneArguments:
    """Hyper-parameters and data choices of one encoder fine-tune.

    Defaults aim at "minutes on a 2-core CPU with MiniLM" and are sensible on a GPU too.
    """

    objective: Objective = field(
        default="interactions",
        metadata=_help(
            "What the encoder learns from. 'pairs': text pairs (next product, positive review -> product, "
            "co-bought) with MultipleNegativesRankingLoss. 'interactions': customers' histories directly "
            "(beeFormer): the similarity of product texts must reconstruct which products each customer "
            "chose together, which teaches the encoder what customers choose, also for new products. "
            "The default: it ranked held-out new products better than the pair objective on Magazine "
            "(docs/EVALUATION.md).",
            choices=OBJECTIVES,
        ),
    )
    epochs: int = field(
        default=1, metadata=_help("Passes over the training pairs (or customers).", minimum=1, maximum=20)
    )
    batch_size: int = field(
        default=32,
        metadata=_help(
            "Pairs per batch. With in-batch negatives a larger batch gives harder training; "
            "use the cached loss to go beyond what fits in memory.",
            minimum=2,
            maximum=4096,
        ),
    )
    learning_rate: float = field(
        default=3e-5, metadata=_help("Peak learning rate of AdamW.", minimum=1e-7, maximum=1e-2)
    )
    warmup_ratio: float = field(
        default=0.1, metadata=_help("Share of the steps over which the learning rate ramps up.", minimum=0.0, maximum=0.5)
    )
    max_pairs: int = field(
        default=4000,
        metadata=_help(
            "At most this many training pairs, shared evenly across the sources; bounds the run time.",
            minimum=10,
            maximum=10_000_000,
        ),
    )
    max_seq_length: int = field(
        default=128, metadata=_help("Tokens per text during training; longer is slower.", minimum=16, maximum=512)
    )
    seed: int = field(default=42, metadata=_help("Seed of sampling, splitting and training."))
    use_cached_mnrl: bool = field(
        default=False,
        metadata=_help(
            "objective=pairs: use CachedMultipleNegativesRankingLoss (GradCache): large batches with the memory "
            "of small ones."
        ),
    )
    mini_batch_size: int = field(
        default=16,
        metadata=_help(
            "Texts encoded with gradients at once by the cached pair loss and by the interaction objective "
            "(memory, not results).",
            minimum=1,
            maximum=1024,
        ),
    )
    hard_negatives: int = field(
        default=0,
        metadata=_help(
            "Mine this many hard negatives per pair with the base model (0 = in-batch negatives only).",
            minimum=0,
            maximum=10,
        ),
    )
    lora_rank: int = field(
        default=0,
        metadata=_help(
            "Train LoRA adapters of this rank instead of all weights (needs `peft`; 0 = full fine-tune). "
            "Adapters are merged into the saved model.",
            minimum=0,
            maximum=256,
        ),
    )
    validation_fraction: float = field(
        default=0.1,
        metadata=_help(
            "Share of the pairs kept out of training to pick the best checkpoint and report metrics.",
            minimum=0.02,
            maximum=0.5,
        ),
    )
    max_validation_queries: int = field(
        default=300, metadata=_help("At most this many validation queries are evaluated.", minimum=10, maximum=100_000)
    )
    eval_corpus_size: int = field(
        default=3000,
        metadata=_help(
            "Products ranked per validation query (the relevant ones plus a sample of the catalog).",
            minimum=10,
            maximum=1_000_000,
        ),
    )
    evaluations_per_epoch: int = field(
        default=2, metadata=_help("Validation runs per epoch (curves and checkpoint choice).", minimum=1, maximum=20)
    )
    early_stopping_patience: int = field(
        default=2,
        metadata=_help("Stop after this many validations without improvement (0 = never stop early).", minimum=0, maximum=20),
    )
    holdout: HoldOut = field(
        default="test_users",
        metadata=_help(
            "What of the evaluation split never reaches training: 'test_users' drops everything of a share "
            "of the test users (and the test items of the others); 'test_items' drops only test items.",
            choices=("test_users", "test_items"),
        ),
    )
    holdout_user_fraction: float = field(
        default=0.5,
        metadata=_help(
            "With holdout='test_users': share of the test users whose data is never used for training.",
            minimum=0.0,
            maximum=1.0,
        ),
    )
    users_per_batch: int = field(
        default=128,
        metadata=_help(
            "objective=interactions: customers per step; their products plus the sampled negatives are "
            "encoded together (more customers: more signal per step, more products to encode).",
            minimum=2,
            maximum=100_000,
        ),
    )
    negatives_per_batch: int = field(
        default=128,
        metadata=_help(
            "objective=interactions: products sampled per step from the rest of the catalog as negatives.",
            minimum=0,
            maximum=100_000,
        ),
    )
    max_items_per_batch: int = field(
        default=512,
        metadata=_help(
            "objective=interactions: at most this many of the customers' products per step (bounds the "
            "encoding work and memory of a step; negatives come on top).",
            minimum=2,
            maximum=1_000_000,
        ),
    )
    trainable_layers: int = field(
        default=0,
        metadata=_help(
            "objective=interactions: how much of the encoder learns. 0: a linear head on top of the frozen "
            "encoder (its vectors are computed once; minutes on a 2-core CPU). N: the top N transformer "
            "layers; on a CPU the layers below are run once per product and cached, so a step runs only "
            "the top N (minutes per pass for N=1 or 2); on a GPU the whole encoder runs in chunks "
            "(GradCache). -1: every weight, as in beeFormer (for a GPU).",
            minimum=-1,
            maximum=48,
        ),
    )
    head_on_layers: bool = field(
        default=False,
        metadata=_help(
            "objective=interactions with trainable_layers N > 0: also train a linear head on top of those "
            "layers (at head_learning_rate; saved in the model like the head of trainable_layers=0)."
        ),
    )
    head_epochs: int = field(
        default=10,
        metadata=_help(
            "objective=interactions with trainable_layers=0: passes over the customers for the linear head "
            "(each pass takes seconds once the products are encoded).",
            minimum=1,
            maximum=200,
        ),
    )
    head_learning_rate: float = field(
        default=1e-2,
        metadata=_help(
            "objective=interactions with trainable_layers=0: learning rate of the linear head (it starts "
            "as the identity, so it needs a far larger rate than the encoder's weights).",
            minimum=1e-6,
            maximum=1.0,
        ),
    )
    max_users: int = field(
        default=20_000,
        metadata=_help(
            "objective=interactions: at most this many customers (with 2+ products) are trained on, "
            "sampled; bounds the run time.",
            minimum=2,
            maximum=100_000_000,
        ),
    )
    positive_rating: float = field(
        default=4.0,
        metadata=_help(
            "Reviews rated at least this are 'positive' review pairs; with objective=interactions, reviews "
            "rated lower are left out of the customers' histories.",
            minimum=1.0,
            maximum=5.0,
        ),
    )
    sources: tuple[str, ...] = field(
        default=("sequence", "review", "co_bought"),
        metadata=_help("Pair sources used: sequence, review, co_bought."),
    )
    new_products_share: float = field(
        default=0.2,
        metadata=_help(
            "Share of the products with interactions held out as new: never trained on, then ranked for the "
            "customers who liked one, by the base and the tuned encoder (before/after on new products). "
            "0 = train on every product and skip this measurement.",
            minimum=0.0,
            maximum=0.5,
        ),
    )
    recommendation_eval: bool = field(
        default=True,
        metadata=_help(
            "Also measure the recommender (embedding-only and hybrid NDCG@10 / Recall@10) on held-out "
            "customers before and after; embeds the catalog twice."
        ),
    )
    federated_rounds: int = field(
        default=0,
        metadata=_help(
            "FedAvg rounds across shards (regions, stores...): each shard trains on its own data only and "
            "the weights are averaged. 0 = train centrally on all data.",
            minimum=0,
            maximum=50,
        ),
    )
    shard_column: str = field(
        default="", metadata=_help("Column naming the shard for federated training (detected when empty).")
    )
    precision: str = field(
        default="auto",
        metadata=_help(
            "auto (bf16/fp16 mixed precision on a GPU, fp32 on CPU), fp32, bf16 or fp16.",
            choices=("auto", "fp32", "bf16", "fp16"),
        ),
    )
    device: str = field(default="auto", metadata=_help("auto, cpu, cuda, cuda:N or mps."))

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            minimum = spec.metadata.get("minimum")
            maximum = spec.metadata.get("maximum")
            if minimum is not None and value < minimum or maximum is not None and value > maximum:
                raise ConfigError(
                    f"Fine-tuning setting {spec.name}={value!r} is out of range.",
                    hint=f"Use a value between {minimum} and {maximum}: {spec.metadata['help']}",
                )
            choices = spec.metadata.get("choices")
            if choices is not None and value not in choices:
                raise ConfigError(
                    f"Fine-tuning setting {spec.name}={value!r} is not one of {', '.join(choices)}."
                )
        unknown = set(self.sources) - {"sequence", "review", "co_bought"}
        if unknown or not self.sources:
            raise ConfigError(
                f"Unknown pair source(s) {sorted(unknown)}." if unknown else "No pair source chosen.",
                hint="Use any of sequence, review, co_bought.",
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready) for job parameters, manifests and model cards."""
        values = asdict(self)
        values["sources"] = list(self.sources)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> FineTuneArguments:
        """Build from plain values, rejecting unknown names with the list of valid ones."""
        values = dict(values or {})
        names = {spec.name for spec in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(
                f"Unknown fine-tuning setting(s): {', '.join(unknown)}.",
                hint=f"Valid settings: {', '.join(sorted(names))}.",
            )
        if "sources" in values:
            sources = values["sources"]
            # "sequence" or "sequence,review" from the command line, a list from JSON.
            values["sources"] = tuple(part.strip() for part in sources.split(",")) if isinstance(sources, str) else tuple(sources)
        return cls(**values)

    @staticmethod
    def help_texts() -> dict[str, str]:
        """Field name -> one-line help, for the CLI and the dashboard."""
        return {spec.name: spec.metadata.get("help", "") for spec in fields(FineTuneArguments)}

    @staticmethod
    def defaults() -> dict[str, Any]:
        return {
            spec.name: spec.default
            for spec in fields(FineTuneArguments)
            if spec.default is not MISSING
        }
