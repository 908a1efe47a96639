"""Embeddings of items and reviews: encoders, text templates, the content-addressed cache, the pipeline.

Importing this package loads no model and no torch; the encoder is loaded on first use.
"""

from recengine.embed.cache import EmbeddingCache, prune_other_models, text_key
from recengine.embed.encoder import Encoder, EncoderRuntime, encoder_runtime, load_encoder
from recengine.embed.fake import HashingEncoder
from recengine.embed.maintenance import PruneReport, prune_embeddings
from recengine.embed.models import ModelSource, resolve_model
from recengine.embed.pipeline import (
    EmbedReport,
    EncodeRun,
    IndexRun,
    ItemVectors,
    ReviewVectors,
    SimilarItem,
    cached_review_vectors,
    embed_workspace,
    encode_query,
    ensure_item_index,
    item_index,
    item_vectors,
    last_runs,
    review_title_vectors,
    review_vectors,
    saved_item_index,
    similar_items,
)
from recengine.embed.texts import item_texts, review_texts, review_titles

__all__ = [
    "EmbedReport",
    "EmbeddingCache",
    "EncodeRun",
    "Encoder",
    "EncoderRuntime",
    "HashingEncoder",
    "IndexRun",
    "ItemVectors",
    "ModelSource",
    "PruneReport",
    "ReviewVectors",
    "SimilarItem",
    "cached_review_vectors",
    "embed_workspace",
    "encode_query",
    "encoder_runtime",
    "ensure_item_index",
    "item_index",
    "item_texts",
    "item_vectors",
    "last_runs",
    "load_encoder",
    "prune_embeddings",
    "prune_other_models",
    "resolve_model",
    "review_texts",
    "review_title_vectors",
    "review_titles",
    "review_vectors",
    "saved_item_index",
    "similar_items",
    "text_key",
]
