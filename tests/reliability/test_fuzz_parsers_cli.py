"""Hypothesis fuzzing of the value parsers, the column mapping, format sniffing and the command line.

tests/ingest/test_ingest_fuzz.py already fuzzes whole files (random bytes, CSV shapes, JSON records:
50 examples each). Here: each value parser on its own, mappings with hand-made overrides, the sniffer
on bytes behind every known magic number, and `recengine` argv: the CLI exits 0, or 2 with a one-line
reason, and never with a traceback. Example counts: FUZZ_EXAMPLES per test by default, SLOW_EXAMPLES
with `-m slow` (docs/RELIABILITY.md lists them).
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_data import catalog_csv, reviews_csv, source

from recengine.config import IngestSettings
from recengine.errors import RecEngineError
from recengine.ingest import IngestSource
from recengine.ingest import values as V
from recengine.ingest.mapping import FIELDS, missing_required, resolve_mapping
from recengine.ingest.readers import read_table
from recengine.ingest.sources import load_source, sniff_format
from recengine.workspace import Workspace

FUZZ_EXAMPLES = 20
SLOW_EXAMPLES = 1000
CLI_EXAMPLES = 3
CLI_SLOW_EXAMPLES = 1000

FAST = settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCALARS = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["", " ", "$1,299.00", "1.299,00 €", "12-15", "N/A", "nan", "inf", "-0", "1e309",
                     "2020-02-30", "1600000000000", "yes", "TRUE", "in stock", "٣", "½", "\u200b5", "5 stars",
                     "['a', 'b']", "[1, 2", "{\"a\": 1}", "Electronics > > Phones", "<b>x</b>"]),
)
COLUMNS = st.lists(SCALARS, min_size=0, max_size=12)


def _series(values: list[object]) -> pd.Series:
    return pd.Series(values, dtype=object)


def _value_parsers_hold(values: list[object]) -> None:
    series, count = _series(values), len(values)
    for function in (V.parse_price, V.rating_value, V.plain_number, V.to_text):
        for value in values:
            function(value)  # never raises
    for column_function in (V.text_column, V.identifier_column, V.description_column, V.category_column,
                            V.first_of_list_column):
        result = column_function(series, count)
        assert len(result) == count
    for pair_function in (V.price_column, V.boolean_column, V.parse_timestamps):
        parsed, bad = pair_function(series, count)
        assert len(parsed) == len(bad) == count
        assert not (parsed.notna() & bad.astype(bool)).any()  # a value is parsed or flagged, not both
    titles, flags = V.title_column(series.map(lambda value: value if isinstance(value, str) else None))
    assert len(titles) == len(flags) == count


@FAST
@given(COLUMNS)
def test_value_parsers_never_raise(values: list[object]) -> None:
    _value_parsers_hold(values)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@SLOW
@given(COLUMNS)
def test_value_parsers_never_raise_long(values: list[object]) -> None:
    _value_parsers_hold(values)


KINDS = st.sampled_from(["catalog", "reviews", "interactions"])
NAMES = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(["item_id", "asin", "user_id", "rating", "text", "ID", "Item ID", "x"])),
    min_size=1, max_size=8,
)


def _mapping_holds(kind: str, columns: list[str], override_pairs: list[tuple[int, str]]) -> None:
    targets = [*FIELDS[kind], "attributes", "ignore", "not_a_field"]  # type: ignore[index]
    override = {columns[index % len(columns)]: targets[choice % len(targets)] for index, choice in override_pairs} \
        if override_pairs else None
    try:
        mapping = resolve_mapping("fuzz", kind, columns, override)  # type: ignore[arg-type]
    except RecEngineError:
        return
    assert set(mapping) == set(columns)  # every column gets a decision
    assert not missing_required(kind, mapping)  # type: ignore[arg-type]
    fields = [target for target in mapping.values() if target not in ("attributes", "ignore")]
    assert len(fields) == len(set(fields))  # no field filled twice


@FAST
@given(KINDS, NAMES, st.lists(st.tuples(st.integers(0, 20), st.integers(0, 30)), max_size=4))
def test_mapping_decides_every_column_once(kind: str, columns: list[str], override: list[tuple[int, str]]) -> None:
    _mapping_holds(kind, columns, override)


MAGIC = st.sampled_from([
    b"", b"PK\x03\x04", b"\x1f\x8b\x08", b"PAR1", b"\xd0\xcf\x11\xe0", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xef\xbb\xbf",
    b"\xff\xfe", b"\xfe\xff", b"[", b"{", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd",
])
FILE_NAMES = st.sampled_from(["f.csv", "f.tsv", "f.json", "f.jsonl", "f.parquet", "f.xlsx", "f.gz", "f", "f.csv.gz", "f.txt"])


def _sniff_holds(name: str, data: bytes, kind: str) -> None:
    try:
        sniff_format(name, data)
        loaded = load_source(IngestSource(kind, name, data), IngestSettings())  # type: ignore[arg-type]
        read_table(loaded)
    except RecEngineError:
        pass


@FAST
@given(FILE_NAMES, MAGIC, st.binary(max_size=200), KINDS)
def test_sniffing_bytes_behind_every_magic_number(name: str, magic: bytes, tail: bytes, kind: str) -> None:
    _sniff_holds(name, magic + tail, kind)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@SLOW
@given(FILE_NAMES, MAGIC, st.binary(max_size=2000), KINDS)
def test_sniffing_bytes_behind_every_magic_number_long(name: str, magic: bytes, tail: bytes, kind: str) -> None:
    _sniff_holds(name, magic + tail, kind)


# -- the command line ---------------------------------------------------------------------------------

# Commands fuzzed with their options. Left out: demo (generates a whole shop), finetune (trains),
# hash-password (prompts), and the distributed --engine/--address options (they connect to a cluster).
COMMANDS: dict[str, list[str]] = {
    "ingest": ["--catalog", "--reviews", "--interactions", "--map", "--format"],
    "analyze": ["--format", "--force"],
    "embed": ["--reviews", "--prune", "--format"],
    "recommend": ["--user", "--users-file", "--interests", "-k", "--explain", "--format", "--out", "--rules",
                  "--no-rules", "--include-seen", "--weight"],
    "similar": ["--item", "-k", "--same-category", "--format"],
    "search": ["--query", "--user", "-k", "--format"],
    "bundle": ["--item", "--user", "--budget", "--size", "--format"],
    "status": ["--format"],
    "export": ["--table", "--out", "--pseudonymize-users", "--keep-personal-data"],
    "evaluate": ["-k", "--methods", "--split", "--format"],
    "models": ["list", "activate", "rollback", "show", "--no-reembed", "--format"],
    "jobs": ["list", "show", "cancel", "--limit", "--format"],
}
# Values: ids that exist, junk, numbers, names of files inside the test folder (never outside it).
SAFE_TEXT = st.text(alphabet=st.characters(blacklist_characters="/\\~\x00", blacklist_categories=("Cs",)), max_size=15)
VALUES = st.one_of(
    SAFE_TEXT,
    st.sampled_from(["U001", "P0001", "P0002", "nobody", "table", "json", "jsonl", "csv", "items", "reviews",
                     "rejects", "users", "interactions", "0", "-1", "10", "1e9", "nan", "semantic=2", "x=", "=x",
                     "asin=item_id", "out.csv", "out.jsonl", "out.xlsx", "out.parquet", "out.txt", "catalog.csv",
                     "reviews.csv", "missing.csv", "rules.toml", "random", "popular", "base", "latest"]),
    st.integers(-5, 10**6).map(str),
)


def _argv(command: str, draw_options: list[str], draw_values: list[str], workspace: str | None) -> list[str]:
    argv = [command]
    if workspace is not None:
        argv += ["--workspace", workspace]
    for option, value in zip(draw_options, draw_values, strict=False):
        argv.append(option)
        if option.startswith("-") and option not in ("--force", "--explain", "--no-rules", "--include-seen",
                                                     "--same-category", "--pseudonymize-users",
                                                     "--keep-personal-data", "--no-reembed", "--reviews", "--prune"):
            argv.append(value)
        elif not option.startswith("-"):
            argv.append(value)  # a positional action takes an id after it
    return argv


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a small shop workspace and two upload files; the CLI runs inside it."""
    folder = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECENGINE_EMBED__MODEL", "fake")
        patch.setenv("RECENGINE_EMBED__DEVICE", "cpu")
        workspace = Workspace.open(folder / "shop")
        workspace.ingest([source("catalog", "c.csv", catalog_csv(20)), source("reviews", "r.csv", reviews_csv(120, items=20))])
    (folder / "catalog.csv").write_bytes(catalog_csv(5, start=100))
    (folder / "reviews.csv").write_bytes(reviews_csv(10, start=5000, items=20))
    (folder / "rules.toml").write_text("[[rules]]\nkind = 'boost'\n", encoding="utf-8")
    return folder


def _run_cli(folder: Path, argv: list[str]) -> tuple[int, str]:
    from recengine.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(folder)  # relative paths in the fuzzed arguments stay inside the test folder
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
                code = int(exit_.code or 0)
    finally:
        os.chdir(previous)
    return code, stderr.getvalue()


def _last_line(err: str) -> str:
    # Split on newlines only: str.splitlines() also breaks at \x85 and other characters that a
    # terminal shows inside one line (fuzzed arguments contain them).
    return [line for line in err.split("\n") if line.strip()][-1]


def _cli_holds(folder: Path, argv: list[str]) -> None:
    code, err = _run_cli(folder, argv)
    assert "Traceback" not in err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        last = _last_line(err)
        assert last.startswith("recengine") and "error:" in last, (argv, err)  # one line says why


CLI_CASES = st.sampled_from(sorted(COMMANDS)).flatmap(
    lambda command: st.tuples(
        st.just(command),
        st.lists(st.sampled_from(COMMANDS[command]), max_size=4),
        st.lists(VALUES, min_size=4, max_size=4),
        st.sampled_from(["shop", "missing-ws", None, "catalog.csv"]),
    )
)


@settings(max_examples=CLI_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(CLI_CASES)
def test_cli_exits_2_with_one_line_on_bad_input(cli_folder: Path, case: tuple[str, list[str], list[str], str | None]) -> None:
    command, options, values, workspace = case
    _cli_holds(cli_folder, _argv(command, options, values, workspace))


@pytest.mark.slow
@pytest.mark.timeout(3600)
@settings(max_examples=CLI_SLOW_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(CLI_CASES)
def test_cli_exits_2_with_one_line_on_bad_input_long(cli_folder: Path, case: tuple[str, list[str], list[str], str | None]) -> None:
    command, options, values, workspace = case
    _cli_holds(cli_folder, _argv(command, options, values, workspace))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-command"],
        ["recommend"],
        ["recommend", "--workspace", "shop", "--user", "U001", "-k", "ten"],
        ["recommend", "--workspace", "shop", "--user", "U001", "-k", "-3"],
        ["export", "--workspace", "shop", "--table", "secrets", "--out", "x.csv"],
        ["export", "--workspace", "shop", "--table", "items", "--out", "x.exe"],
        ["ingest", "--workspace", "shop", "--catalog", "missing.csv"],
        ["ingest", "--workspace", "shop", "--catalog", "catalog.csv", "--map", "nonsense"],
        ["similar", "--workspace", "missing-ws", "--item", "P0001"],
        ["models", "--workspace", "shop", "activate", "v-does-not-exist"],
    ],
)
def test_cli_known_bad_inputs(cli_folder: Path, argv: list[str]) -> None:
    code, err = _run_cli(cli_folder, argv)
    assert code == 2, (argv, code, err)
    assert "Traceback" not in err
    last = _last_line(err)
    assert last.startswith("recengine") and "error:" in last, err
