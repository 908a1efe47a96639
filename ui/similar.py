"""Streamlit glue of the Similar products view and of the workspace embedding status box.

Cached reads take the workspace folder and its `data_version`, so they refresh after an ingest or an
embedding update. The index is a shared cached resource: it is only searched, never mutated.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pandas as pd
import streamlit as st

from recengine.embed import EmbedReport, embed_workspace, saved_item_index, similar_items
from recengine.embed.status import embedding_status as compute_embedding_status
from recengine.index import ItemIndex
from recengine.preparation import encoder_work_in_background
from recengine.workspace import Workspace
from ui.auth import is_editor, require_editor
from ui.common import data_version, progress_bar, workspace_at

MATCH_LIMIT = 200
FRESHNESS_LABELS = {
    "fresh": ("Up to date", ":material/check_circle:"),
    "stale": ("Out of date", ":material/update:"),
    "missing": ("Not built yet", ":material/pending:"),
    "none": ("No products yet", ":material/inventory_2:"),
}


@st.cache_data(show_spinner=False, max_entries=32)
def embedding_status(root: str, version: str) -> dict[str, Any]:
    """The embeddings status section as a plain dict (plus `fresh`)."""
    status = compute_embedding_status(workspace_at(root))
    return {**asdict(status), "fresh": status.fresh}


@st.cache_resource(show_spinner=False, max_entries=4)
def _saved_index(root: str, version: str, fingerprint: str) -> ItemIndex | None:
    return saved_item_index(workspace_at(root))


def cached_index(root: str, version: str) -> ItemIndex | None:
    """The saved item index of the active model (possibly stale), shared by all sessions; None if none."""
    fingerprint = embedding_status(root, version)["fingerprint"]
    return _saved_index(root, version, fingerprint)


@st.cache_data(show_spinner=False, max_entries=64)
def product_matches(root: str, version: str, query: str) -> pd.DataFrame:
    """Up to 200 products whose id, title or brand contains `query` (all products when empty)."""
    pattern = f"%{query.strip()}%"
    return workspace_at(root).store.query_df(
        "SELECT item_id, title, brand, category FROM items "
        "WHERE NOT is_placeholder AND (item_id ILIKE ? OR title ILIKE ? OR brand ILIKE ?) "
        "ORDER BY title NULLS LAST, item_id LIMIT ?",
        [pattern, pattern, pattern, MATCH_LIMIT],
    )


@st.cache_data(show_spinner=False, max_entries=64)
def item_details(root: str, version: str, item_id: str) -> dict[str, Any]:
    return workspace_at(root).item(item_id)


@st.cache_data(show_spinner=False, max_entries=64)
def similar_frame(root: str, version: str, item_id: str, k: int, same_category: bool) -> pd.DataFrame:
    """The k most similar products with their details and cosine, best first."""
    workspace = workspace_at(root)
    index = cached_index(root, version)
    hits = similar_items(workspace, item_id, k, same_category=same_category, index=index)
    columns = ["rank", "item_id", "title", "brand", "category", "price", "cosine"]
    if not hits:
        return pd.DataFrame(columns=columns)
    ids = [hit.item_id for hit in hits]
    placeholders = ", ".join("?" for _ in ids)
    details = workspace.store.query_df(
        f"SELECT item_id, title, brand, category, price FROM items WHERE item_id IN ({placeholders})", ids
    ).set_index("item_id")
    frame = pd.DataFrame({"rank": [hit.rank for hit in hits], "item_id": ids,
                          "cosine": [round(hit.similarity, 4) for hit in hits]})
    frame = frame.join(details, on="item_id")
    return frame[columns]


def product_label(row: pd.Series) -> str:
    title = row.get("title")
    title = title if isinstance(title, str) and title else "(untitled)"
    return f"{title} · {row['item_id']}"


def update_embeddings(workspace: Workspace) -> EmbedReport:
    """Embed what changed and update the index, with a progress bar (editors only)."""
    require_editor("update embeddings")  # checked on the server, whatever the browser shows
    # The bumped data_version refreshes every cached read keyed on it.
    return embed_workspace(workspace, progress=progress_bar("Updating embeddings"))


def embedding_status_box(workspace: Workspace, *, key: str = "embeddings") -> dict[str, Any]:
    """A bordered box: model, device, what is embedded and indexed, and an 'Update embeddings' button.

    Returns the status dict so that callers can decide what else to show.
    """
    root = str(workspace.root.resolve())
    status = embedding_status(root, data_version(workspace))
    with st.container(border=True):
        if status["problem"]:
            st.error(status["problem"], icon=":material/error:")
            return status
        state = "none" if status["items"] == 0 else ("fresh" if status["fresh"] else (
            "missing" if status["index"] == "missing" else "stale"))
        label, icon = FRESHNESS_LABELS[state]
        st.markdown(f"**Embeddings and similarity index** · {icon} {label}")
        columns = st.columns(4)
        columns[0].metric("Products embedded", f"{status['items_embedded']:,} / {status['items']:,}")
        columns[1].metric("Index", f"{status['index_kind']} · {status['index_size']:,}",
                          help=f"FAISS factory {status['index_factory']}; {status['index']}.")
        hit_rate = status["last_run_hit_rate"]
        columns[2].metric("Cache hit rate (last run)", "-" if hit_rate is None else f"{hit_rate:.0%}",
                          help=f"{status['cache_entries']:,} cached vectors for this model.")
        columns[3].metric("Device", f"{status['device']} · {status['precision']}")
        st.caption(f"Model: {status['model']} ({status['fingerprint']}). Precision check: "
                   f"{status['precision_agreement']}.")
        if state in ("stale", "missing"):
            # The workspace's preparation job is encoding these products: a second encoder here would
            # do the same work at the same time, on the same cores.
            preparing = encoder_work_in_background(workspace, "embeddings")
            if preparing:
                st.caption("The embeddings are being made by the workspace's preparation in the background; "
                           "this box fills in when it is done.")
            if is_editor():
                if st.button("Update embeddings", key=f"{key}_update", type="primary", icon=":material/sync:",
                             disabled=preparing,
                             help="The background preparation is making them." if preparing else None):
                    report = update_embeddings(workspace)
                    st.session_state[f"{key}_last_run"] = (
                        f"Encoded {report.items.encoded:,} products ({report.items.cache_hits:,} from the cache); "
                        f"index {report.index.action} ({report.index.size:,} items)."
                    )
                    st.rerun()
            else:
                st.caption("An editor can update the embeddings.")
        if message := st.session_state.pop(f"{key}_last_run", None):
            st.success(message, icon=":material/check_circle:")
    return status
