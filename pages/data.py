"""Data: upload files, check how they were understood, correct the mapping, ingest, read the report."""

from __future__ import annotations

import streamlit as st

from ui import data
from ui.auth import is_editor, require_editor
from ui.common import data_version, escape_markdown, get_workspace, guarded
from ui.home import workspace_summary

st.title("Data")
st.caption(
    "Upload a product catalog, customer reviews and, if you have them, click and purchase events: CSV, "
    "TSV, JSON, JSON Lines, Parquet or Excel, also gzip-compressed. Every row is either stored or "
    "rejected with a reason you can download."
)

workspace = None
with guarded("Opening the workspace"):
    workspace = get_workspace()

# -- the last ingest's report (kept across reruns until the next ingest) -------------------------
report = data.last_report()
if workspace is not None and report is not None:
    with st.container(border=True):
        st.subheader("Ingest report", anchor=False)
        counts = data.counts_frame(report)
        if not counts.empty:
            totals = counts[["rows read", "accepted", "updated", "duplicate", "rejected"]].sum()
            columns = st.columns(5)
            for column, (label, value) in zip(columns, totals.items(), strict=True):
                column.metric(label.capitalize(), f"{int(value):,}")
            if bool(counts["adds up"].all()):
                st.success(
                    "Every row is accounted for: accepted + updated + duplicate + rejected = rows read.",
                    icon=":material/check_circle:",
                )
            else:
                st.error("Some rows are not accounted for; please report this.", icon=":material/error:")
            st.dataframe(counts, hide_index=True, key="report_counts")
        reasons = data.reasons_frame(report)
        if not reasons.empty:
            st.markdown("**Why rows were rejected**")
            st.dataframe(reasons, hide_index=True, key="report_reasons")
        with guarded("Reading the rejected rows"):
            rejected = data.rejected_rows(workspace, report.batch_ids, limit=data.REJECTS_SHOWN)
            if not rejected.empty:
                st.markdown("**Rejected rows** (file, row number, column, reason and the original values)")
                if report.rejected > len(rejected):
                    st.caption(f"The first {len(rejected):,} of {report.rejected:,}; the download has them all.")
                st.dataframe(rejected, hide_index=True, key="report_rejects")
                batch_ids = list(report.batch_ids)
                st.download_button(
                    "Download rejected rows (CSV)",
                    # Built only when clicked: a large ingest can reject many rows.
                    lambda: data.csv_bytes(data.rejected_rows(workspace, batch_ids, limit=None)),
                    file_name="rejected_rows.csv",
                    mime="text/csv",
                    icon=":material/download:",
                    key="download_rejects",
                )
        st.button("Clear this report", key="clear_report", on_click=data.forget_report, icon=":material/close:")

# -- upload ----------------------------------------------------------------------------------------
st.subheader("Upload files", anchor=False)
if not is_editor():
    st.info("Viewers can browse the data; sign in as an editor to upload files.", icon=":material/lock:")
    files = []
else:
    files = st.file_uploader(
        "Catalog, reviews or events files",
        type=data.UPLOAD_TYPES,
        accept_multiple_files=True,
        key=data.uploader_key(),
        help="Several files at once are fine; each is previewed and mapped on its own.",
    )

uploads = data.uploads_from(files)
planned: list[data.PlannedFile] = []
blocked = False
for upload in uploads:
    with st.expander(data.label_of(upload), expanded=True, icon=":material/description:"):
        with guarded(f"Reading {escape_markdown(upload.name)}"):
            detected = data.preview(upload, "catalog", None)
            guessed = data.guess_kind(
                upload.name, detected.columns, None if detected.has_header else detected.sample
            )
            left, right = st.columns([2, 1])
            kind = left.selectbox(
                "What is in this file?",
                data.KINDS,
                index=data.KINDS.index(guessed),
                format_func=data.KIND_LABELS.get,
                key=f"kind:{upload.key}",
                help=f"Guessed from the columns and the file name: {data.KIND_LABELS[guessed]}.",
            )
            has_header = detected.has_header
            if detected.format in data.HEADER_FORMATS:
                has_header = right.toggle(
                    "First row is a header",
                    value=bool(detected.has_header),
                    key=f"header:{upload.key}",
                    help="Detected from the content; switch off for files whose first row is data.",
                )
            view = data.preview(upload, kind, has_header)
            st.caption(data.describe(view))
            for note in data.preview_notes(view):
                st.warning(note, icon=":material/info:")
            st.dataframe(view.sample, hide_index=True, key=f"sample:{upload.key}")
            st.markdown("**Column mapping**: which field each column fills")
            mapping = data.mapping_editor(upload, kind, view)
            problems = data.mapping_problems(kind, mapping)
            for problem in problems:
                st.warning(problem, icon=":material/warning:")
            blocked = blocked or bool(problems)
            planned.append(data.PlannedFile(upload, kind, has_header, mapping))

if uploads:
    unreadable = len(uploads) - len(planned)
    if unreadable:
        st.warning(
            f"{unreadable} file(s) cannot be read and will be left out; remove them or fix them first.",
            icon=":material/warning:",
        )
    if st.button(
        f"Ingest {len(planned)} file(s)",
        type="primary",
        disabled=blocked or not planned,
        icon=":material/database_upload:",
        key="ingest",
    ):
        with guarded("Ingesting the files"):
            require_editor("upload data")  # checked on the server, whatever the browser shows
            result = data.ingest(workspace, planned)
            data.remember_report(result)
            data.reset_uploader()
            st.rerun()

# -- what is in the workspace -------------------------------------------------------------------------
if workspace is not None:
    st.subheader("In this workspace", anchor=False)
    with guarded("Reading the workspace summary"):
        summary = workspace_summary(str(workspace.root.resolve()), data_version(workspace))
        first, second, third, fourth, fifth = st.columns(5)
        first.metric("Products", f"{summary.items:,}", help=f"{summary.placeholder_items:,} placeholders "
                     "(reviewed but not in the catalog).")
        second.metric("Customers", f"{summary.users:,}")
        third.metric("Reviews", f"{summary.reviews:,}")
        fourth.metric("Events", f"{summary.interactions:,}")
        fifth.metric("Rejected rows", f"{summary.rejected_rows:,}")
