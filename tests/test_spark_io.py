"""Spark's input and output ends (issue #12): sources read by a Spark session (a table, a folder
of Parquet or CSV files) and the run folder's large tables written by Spark as Parquet datasets.

The data is the demo workspace's HubSpot contacts export, turned into what a warehouse holds: a
Parquet folder written by pyarrow with typed columns (the record id as an integer, the dates as
timestamps), and a Spark table saved from that folder. A run over the table or the folder must
find what the run over the CSV export finds. Spark starts slowly on two cores: one local session
per module, a few hundred rows, marked `spark` like tests/test_spark.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from audit import load_config
from audit.cli import cli
from audit.config import SparkConfig
from audit.errors import ConfigError, InputError
from audit.pipeline import analyse
from audit.report import load_run
from tests.factories import demo_config

HUBSPOT = "data/hubspot-crm-exports-all-contacts-2026-10-30.csv"


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory):
    from audit.spark import missing, start_session

    reason = missing()
    if reason:
        pytest.skip(f"Spark engine unavailable: {reason}")
    warehouse = tmp_path_factory.mktemp("warehouse")
    cfg = SparkConfig(partitions=4, conf={"spark.sql.warehouse.dir": str(warehouse)})
    session, new = start_session(cfg)
    yield session
    if new:
        session.stop()


@pytest.fixture(scope="module")
def ws(small_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the small demo workspace that this module may add files to."""
    folder = tmp_path_factory.mktemp("io") / "ws"
    shutil.copytree(small_demo, folder)
    demo_config(folder).rename(folder / "demo.yaml")
    return folder


def _config(workspace: Path, name: str, entry: dict) -> Path:
    """The demo config with its HubSpot contacts source read from `entry` instead."""
    data = yaml.safe_load((workspace / "demo.yaml").read_text(encoding="utf-8"))
    for src in data["sources"]:
        if src.get("path") == HUBSPOT:
            del src["path"]
            src.update(entry)
    path = workspace / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def warehouse_copies(ws: Path, spark) -> dict[str, Path]:
    """The HubSpot export as a typed Parquet folder (two files) and as a Spark table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from audit.sources import read_table

    table = read_table(ws / HUBSPOT).frame
    typed = pd.DataFrame({c: table[c].astype(object) for c in table.columns})
    typed["Record ID"] = typed["Record ID"].astype("int64")
    for col in ("Create Date", "Last Activity Date"):
        typed[col] = pd.to_datetime(typed[col], format="%Y-%m-%d %H:%M").astype("datetime64[us]")
    arrow = pa.Table.from_pandas(typed, preserve_index=False)
    folder = ws / "warehouse" / "hubspot_contacts"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    half = arrow.num_rows // 2
    pq.write_table(arrow.slice(0, half), folder / "part-0.parquet")
    pq.write_table(arrow.slice(half), folder / "part-1.parquet")
    assert arrow.schema.field("Create Date").type == pa.timestamp("us")
    location = ws / "warehouse" / "hubspot_contacts_table"
    spark.read.parquet(str(folder)).write.option("path", str(location)).saveAsTable(
        "hubspot_contacts"
    )
    return {
        "csv": ws / "demo.yaml",
        "parquet": _config(
            ws, "parquet", {"path": "warehouse/hubspot_contacts/", "format": "parquet"}
        ),
        "table": _config(ws, "table", {"table": "hubspot_contacts"}),
    }


@pytest.fixture(scope="module")
def csv_run(warehouse_copies: dict[str, Path]):
    """The run over the CSV export, with the pandas engine: what every other read must find."""
    return analyse(load_config(warehouse_copies["csv"]))


def _same_findings(a, b) -> None:
    """Issues, pairs, clusters and scores of two runs over the same rows are equal."""

    def issues(r) -> pd.DataFrame:
        cols = ["record_id", "entity", "field", "rule_id", "severity", "message", "value"]
        return r.issues[cols].sort_values(cols, kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(issues(a), issues(b))
    # as the run folder writes them (the Spark match gives object columns where pandas gives str)
    for name in ("pairs", "clusters", "golden"):
        want, got = getattr(a.matches, name), getattr(b.matches, name)
        assert got.to_csv(index=False) == want.to_csv(index=False), name
    for name in ("by_record", "by_dimension", "by_source", "by_entity"):
        want, got = getattr(a.scorecard, name), getattr(b.scorecard, name)
        assert got.to_csv(index=False) == want.to_csv(index=False), name
    assert a.scorecard.overall == b.scorecard.overall
    assert a.verdict.passed == b.verdict.passed


@pytest.mark.spark
@pytest.mark.parametrize("kind", ["parquet", "table"])
def test_a_parquet_folder_or_table_finds_what_the_csv_export_finds(
    warehouse_copies: dict[str, Path], csv_run, spark, kind: str
) -> None:
    want = csv_run
    got = analyse(load_config(warehouse_copies[kind]), spark=spark)
    _same_findings(want, got)
    # the demo's duplicates are there, so the comparison is not of empty tables
    assert len(want.matches.pairs) > 0 and len(want.matches.clusters) > 0
    hubspot = want.ingest.counts.query("source == 'hubspot'")
    read = got.ingest.counts.query("source == 'hubspot'")
    assert read["rows_read"].sum() == hubspot["rows_read"].sum() > 50
    contacts = got.records["contacts"]
    mine = contacts[contacts["source"] == "hubspot"]
    if kind == "parquet":  # each row says which part file and which row of it
        assert set(mine["source_file"]) == {
            "warehouse/hubspot_contacts/part-0.parquet",
            "warehouse/hubspot_contacts/part-1.parquet",
        }
        assert mine["source_row"].astype(int).min() == 1
    else:
        assert set(mine["source_file"]) == {"hubspot_contacts"}
    # the typed dates became the same instants as the export's text
    ref = want.records["contacts"].set_index("record_id")["created_at"]
    assert mine.set_index("record_id")["created_at"].equals(ref.loc[mine["record_id"]])


@pytest.mark.spark
def test_a_csv_folder_read_by_spark_matches_the_file_reader(ws: Path, csv_run, spark) -> None:
    folder = ws / "csv_folder"
    folder.mkdir(exist_ok=True)
    shutil.copy(ws / HUBSPOT, folder / "contacts.csv")
    want = csv_run
    got = analyse(
        load_config(_config(ws, "csvdir", {"path": "csv_folder/", "format": "csv"})),
        spark=spark,
    )
    _same_findings(want, got)
    files = got.ingest.files.query("source == 'hubspot'")
    assert files["reader"].tolist() == ["spark-csv"]


@pytest.mark.spark
def test_spark_writes_the_large_tables_as_parquet_datasets(csv_run, tmp_path: Path, spark) -> None:
    """With a Spark writer the records, issues, pairs, clusters and per-record scores become
    Parquet folders holding the pandas engine's rows; every other file is byte for byte the
    same. (tests/test_spark.py runs the whole engine; this is the report's end of it.)"""
    from audit.merge.review import write_review
    from audit.report import write_report
    from audit.report.run_folder import result_tables
    from audit.spark.output import write_dataset

    formats = csv_run.config.output.formats
    write_report(csv_run, tmp_path / "pandas", formats, review=write_review)
    write_report(
        csv_run,
        tmp_path / "spark",
        formats,
        review=write_review,
        parquet=lambda frame, path: write_dataset(spark, frame, path),
    )
    a, b = tmp_path / "pandas", tmp_path / "spark"
    datasets = sorted(p.relative_to(b).as_posix() for p in b.rglob("*.parquet") if p.is_dir())
    assert datasets == [
        "clusters.parquet",
        "duplicates.parquet",
        "issues.parquet",
        *[f"records/{e}.parquet" for e in sorted(csv_run.records)],
        "scores/by_record.parquet",
    ]
    written = result_tables(csv_run)  # what the pandas engine writes (as CSV for these three)
    for name in datasets:
        parts = sorted(p.name for p in (b / name).iterdir())
        assert parts == [f"part-{k:05d}.parquet" for k in range(len(parts))], parts
        got = pd.read_parquet(b / name)
        if (a / name).is_file():  # records and scores: the pandas engine's own Parquet file
            want = pd.read_parquet(a / name)
        else:
            want = written[name.removesuffix(".parquet")]
        assert len(got) == len(want) > 0, name
        _same_rows(want, got, name)

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*")
            if p.is_file() and ".parquet" not in p.name and p.name != "manifest.json"
        }

    pandas_files, spark_files = files(a), files(b)
    assert sorted(pandas_files) == sorted(spark_files)
    assert [n for n in pandas_files if pandas_files[n] != spark_files[n]] == []
    # later commands read the folder back (manifest checked): the same records and scores
    back_a, back_b = load_run(a), load_run(b)
    for name in ["scores/by_record", *[f"records/{e}" for e in sorted(csv_run.records)]]:
        _same_rows(back_a.table(name), back_b.table(name), name)


def _same_rows(want: pd.DataFrame, got: pd.DataFrame, name: str) -> None:
    """Same columns, and the same rows in any order, values compared as the types say."""
    assert list(got.columns) == list(want.columns), name
    assert len(got) == len(want), name

    def canon(frame: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for c in frame.columns:
            s = frame[c]
            if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s):
                s = s.astype(
                    "datetime64[us, UTC]"
                    if isinstance(s.dtype, pd.DatetimeTZDtype)
                    else "datetime64[us]"
                )
            out[c] = s.astype(object).where(s.notna(), None)
        frame = pd.DataFrame(out)
        return frame.sort_values(list(frame.columns), key=lambda s: s.astype(str)).reset_index(
            drop=True
        )

    pd.testing.assert_frame_equal(canon(want), canon(got), check_dtype=False, obj=name)


@pytest.mark.spark
def test_the_dataset_files_are_the_same_for_the_same_table(tmp_path: Path, spark) -> None:
    """Part files get fixed names and the same bytes: a run folder is deterministic."""
    from audit.spark.output import write_dataset

    frame = pd.DataFrame(
        {
            "record_id": [f"s:{i:04d}" for i in range(300)],
            "score": [i / 7 for i in range(300)],
            "seen_at": pd.date_range("2026-01-01", periods=300, freq="h", tz="UTC"),
            "extra": [None] * 300,
        }
    )
    a = write_dataset(spark, frame, tmp_path / "a" / "t.parquet")
    b = write_dataset(spark, frame, tmp_path / "b" / "t.parquet")
    assert [p.name for p in a] == ["part-00000.parquet"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert sorted(p.name for p in (tmp_path / "a" / "t.parquet").iterdir()) == [
        "part-00000.parquet"
    ]
    back = pd.read_parquet(tmp_path / "a" / "t.parquet")
    assert back["record_id"].tolist() == frame["record_id"].tolist()  # order kept
    assert back["seen_at"].dt.tz is not None
    assert (back["seen_at"] == frame["seen_at"]).all()
    assert back["extra"].isna().all()


@pytest.mark.spark
def test_a_view_without_files_is_numbered_alike_on_every_read(
    ws: Path, warehouse_copies: dict[str, Path], spark
) -> None:
    """A view has no file order: its rows are numbered in the order of their values, so two
    reads give the same source_row to the same row."""
    from audit.config import SourceConfig
    from audit.spark.sources import SparkSources

    spark.sql("CREATE OR REPLACE TEMP VIEW hubspot_view AS SELECT * FROM hubspot_contacts")
    src = SourceConfig(name="h", table="hubspot_view")
    [(label, first)] = SparkSources(spark)(src, ws, "sources[0]")
    [(_, second)] = SparkSources(spark)(src, ws, "sources[0]")
    assert label == "hubspot_view"
    assert first.source_row == list(range(1, len(first.frame) + 1)) and len(first.frame) > 50
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.frame["Record ID"].str.fullmatch(r"\d+").all()  # an integer column, as text


# -- errors: one line each, exit 3 for input and 2 for config --------------------------------


@pytest.mark.spark
def test_bad_spark_sources_are_one_line_errors(ws: Path, tmp_path: Path, spark) -> None:
    from audit.config import SourceConfig
    from audit.spark.sources import SparkSources

    read = SparkSources(spark)
    with pytest.raises(InputError, match=r"sources\[0\]\.table: no_such_db\.contacts: no such"):
        read(SourceConfig(name="t", table="no_such_db.contacts"), tmp_path, "sources[0]")
    with pytest.raises(InputError, match="folder not found"):
        read(SourceConfig(name="t", path="gone/", format="parquet"), tmp_path, "sources[0]")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "part-0.parquet").write_bytes(b"PAR1 this is not a parquet file")
    with pytest.raises(InputError) as e:
        read(SourceConfig(name="t", path="broken", format="parquet"), tmp_path, "sources[0]")
    assert "broken" in str(e.value) and "\n" not in str(e.value)
    blobs = tmp_path / "blobs"
    spark.createDataFrame(
        [("a@example.com", bytearray(b"\x00\x01"))], "email string, photo binary"
    ).write.parquet(str(blobs))
    with pytest.raises(InputError, match="column 'photo' holds binary data"):
        read(SourceConfig(name="t", path="blobs", format="parquet"), tmp_path, "sources[0]")
    latin = tmp_path / "latin"
    latin.mkdir()
    (latin / "a.csv").write_bytes("Email,City\na@example.com,México\n".encode("cp1252"))
    with pytest.raises(InputError, match=r"latin/a\.csv row 1: is not UTF-8 text; set"):
        read(SourceConfig(name="t", path="latin", format="csv"), tmp_path, "sources[0]")
    ok = read(
        SourceConfig(name="t", path="latin", format="csv", encoding="iso-8859-1"), tmp_path, "s[0]"
    )
    assert ok[0][1].frame["City"].tolist() == ["México"]
    # Spark's CSV reader knows fewer encodings than crm-audit's own: it says which
    with pytest.raises(
        InputError, match=r"latin: Spark cannot read it as csv .*utf-8, but got cp949"
    ):
        read(SourceConfig(name="t", path="latin", format="csv", encoding="cp949"), tmp_path, "s")


@pytest.mark.spark
def test_a_missing_table_exits_3_in_one_line(ws: Path, tmp_path: Path, runner, spark):
    config = _config(ws, "missing", {"table": "nowhere.contacts"})
    res = runner.invoke(cli, ["run", str(config), "--engine", "spark", "--out", str(tmp_path)])
    assert res.exit_code == 3, res.output
    assert "nowhere.contacts: no such table" in res.output
    assert "Traceback" not in res.output


def test_a_table_with_engine_pandas_is_a_config_error(ws: Path, tmp_path: Path, runner):
    """No Spark needed to say so: exit 2 before any file is read."""
    for name, entry in (
        ("tbl", {"table": "crm.contacts"}),
        ("pq", {"path": "warehouse/contacts/", "format": "parquet"}),
    ):
        config = _config(ws, name, entry)
        res = runner.invoke(cli, ["run", str(config), "--out", str(tmp_path)])
        assert res.exit_code == 2, res.output
        assert "is read by a Spark session; set engine: spark" in res.output
        assert "Traceback" not in res.output


def test_a_source_names_a_path_or_a_table(tmp_path: Path) -> None:
    for body, words in (
        ("[{name: a}]", "give path"),
        ("[{name: a, path: a.csv, table: db.t}]", "not both"),
        ("[{name: a, table: 'db.t; drop table x'}]", "not a table name"),
        ("[{name: a, table: db.t, format: csv}]", "leave it out for table"),
    ):
        path = tmp_path / "c.yaml"
        path.write_text(f"version: 1\nsources: {body}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=words):
            load_config(path)
    path.write_text("version: 1\nengine: spark\nsources: [{name: a, table: crm.contacts}]\n")
    assert load_config(path).sources[0].table == "crm.contacts"
