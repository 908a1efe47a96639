"""Vector indexes over item embeddings (the only package that imports faiss).

`ItemIndex` searches by inner product (= cosine on unit vectors) with filters done inside faiss;
`choose_factory` picks exact or approximate by catalog size; `save_index`/`load_index` persist an index
with a JSON sidecar that is verified on load.
"""

from recengine.index.factory import EXACT_FACTORY, choose_factory, index_kind, nlist_for
from recengine.index.item_index import ItemIndex, SearchResults, gpu_count
from recengine.index.storage import (
    IndexSidecar,
    index_paths,
    load_index,
    read_sidecar,
    remove_index,
    save_index,
    sidecar_summary,
)

__all__ = [
    "EXACT_FACTORY",
    "IndexSidecar",
    "ItemIndex",
    "SearchResults",
    "choose_factory",
    "gpu_count",
    "index_kind",
    "index_paths",
    "load_index",
    "nlist_for",
    "read_sidecar",
    "remove_index",
    "save_index",
    "sidecar_summary",
]
