"""The Spark engine gives the pandas engine's output, byte for byte (issue #12).

One local[2] session for the whole test session (bound to loopback, UI off; 4 partitions, so
rows that belong together can start out apart); every test that
needs it is marked `spark` and skipped when pyspark or Java is missing, so `pytest -m spark`
selects them and the default loop stays fast on a machine without Java. They run last
(conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from audit import load_config
from audit.cli import cli
from audit.config import MatchConfig, SparkConfig
from audit.pipeline import run
from tests.factories import demo_config


def _spark_reason() -> str | None:
    from audit.spark import missing

    return missing()


@pytest.fixture(scope="session")
def spark():
    reason = _spark_reason()
    if reason:
        pytest.skip(f"Spark engine unavailable: {reason}")
    from audit.spark import start_session

    session, new = start_session(SparkConfig(partitions=4, conf={"spark.default.parallelism": "4"}))
    yield session
    if new:
        session.stop()


def _files(run_dir: Path) -> dict[str, bytes]:
    """Every file but the Parquet tables: Spark writes those as dataset folders (their rows are
    compared in tests/test_spark_io.py)."""
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name not in ("run.json", "manifest.json") and ".parquet" not in str(p)
    }


def _run_json(run_dir: Path) -> dict:
    data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    data.pop("timings", None)
    data.pop("history", None)
    data["config"].pop("engine", None)
    return data


@pytest.mark.spark
def test_run_folder_is_byte_identical_on_spark(small_demo: Path, tmp_path: Path, spark) -> None:
    cfg = load_config(demo_config(small_demo))
    a = run(cfg, out=tmp_path / "pandas", run_id="same")
    b = run(cfg, out=tmp_path / "spark", run_id="same", spark=spark)
    assert a.run_dir is not None and b.run_dir is not None
    pandas_files, spark_files = _files(a.run_dir), _files(b.run_dir)
    assert sorted(spark_files) == sorted(pandas_files)
    assert any(name.endswith(".csv") for name in pandas_files)
    different = [n for n in pandas_files if pandas_files[n] != spark_files[n]]
    assert different == []
    assert _run_json(a.run_dir) == _run_json(b.run_dir)
    # the large tables were written by Spark, as Parquet folders with the same rows
    assert (b.run_dir / "records" / "contacts.parquet").is_dir()
    assert (b.run_dir / "issues.parquet").is_dir() and not (a.run_dir / "issues.parquet").exists()
    for table in ("records/contacts.parquet", "scores/by_record.parquet"):
        want, got = pd.read_parquet(a.run_dir / table), pd.read_parquet(b.run_dir / table)
        assert sorted(got["record_id"]) == sorted(want["record_id"])
    # the demo has duplicates, so the match stage really ran on Spark and found them
    assert len(b.matches.pairs) > 0 and len(b.matches.clusters) > 0
    assert b.matches.stats["candidate_pairs"] == a.matches.stats["candidate_pairs"] > 0
    assert b.matches.stats["comparisons"] == a.matches.stats["comparisons"]
    # a session the caller passed is left running
    assert not spark.sparkContext._jsc.sc().isStopped()


@pytest.mark.spark
@pytest.mark.parametrize("buckets", [1, 3, 16])
def test_bucket_count_changes_nothing(small_demo: Path, tmp_path: Path, spark, buckets) -> None:
    """Pairs, scores, clusters and the learned weights do not depend on how the records are
    split over buckets: every block and every pair's rows meet in one call."""
    from audit.match import match
    from audit.spark.match import linker

    result = run(load_config(demo_config(small_demo)), out=tmp_path, run_id="r")
    contacts = result.records["contacts"]
    want = match(contacts, MatchConfig())
    got = match(contacts, MatchConfig(), linker=linker(spark, buckets, rows_per_partition=1))
    assert got.pairs.to_csv(index=False) == want.pairs.to_csv(index=False)
    assert got.clusters.to_csv(index=False) == want.clusters.to_csv(index=False)
    assert got.stats["weights"] == want.stats["weights"]
    assert got.stats["prior"] == want.stats["prior"]
    assert got.stats["candidate_pairs_by_rule"] == want.stats["candidate_pairs_by_rule"]


@pytest.mark.spark
def test_clusters_connected_in_spark_are_the_drivers(small_demo: Path, tmp_path: Path, spark):
    """Past `spark.driver_edges` the components are found in Spark SQL: same clusters."""
    from audit.match import match
    from audit.spark.match import linker

    result = run(load_config(demo_config(small_demo)), out=tmp_path, run_id="r")
    contacts = result.records["contacts"]
    want = match(contacts, MatchConfig())
    spread = linker(spark, 4, driver_edges=0, rows_per_partition=1)
    got = match(contacts, MatchConfig(), linker=spread)
    assert len(want.clusters) > 10
    assert got.clusters.to_csv(index=False) == want.clusters.to_csv(index=False)
    assert got.pairs.to_csv(index=False) == want.pairs.to_csv(index=False)
    assert got.golden.to_csv(index=False) == want.golden.to_csv(index=False)


@pytest.mark.spark
def test_spark_components_equal_scipys_on_long_chains(spark) -> None:
    """Min-label propagation needs as many rounds as a component is long: a 12-record chain
    numbered backwards, a star and a pair come out as scipy's components."""
    import numpy as np

    from audit.match.cluster import components
    from audit.spark.match import components_on_spark

    chain = np.arange(12, 0, -1)
    i = np.r_[chain[1:], np.full(5, 50), 60]
    j = np.r_[chain[:-1], np.arange(51, 56), 61]
    got = components_on_spark(spark, 70, i, j)
    want = components(70, i, j)
    # the same partition of the records (labels themselves may differ)
    assert len(set(zip(got.tolist(), want.tolist(), strict=True))) == len(set(want.tolist()))
    assert len(set(got.tolist())) == len(set(want.tolist())) == 70 - 11 - 5 - 1


def test_engine_spark_without_java_is_a_config_error(
    small_demo: Path, tmp_path: Path, runner, monkeypatch
) -> None:
    """No Java (or no pyspark): exit 2 before any work, naming what to install."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    res = runner.invoke(
        cli, ["run", str(demo_config(small_demo)), "--engine", "spark", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2, res.output
    assert "engine: spark cannot run here" in res.output
    assert "openjdk-17-jre-headless" in res.output
    assert "Traceback" not in res.output
    assert not any(p.is_dir() and p.name != "bin" for p in tmp_path.iterdir())


def test_engine_and_spark_keys_are_checked(tmp_path: Path) -> None:
    from audit.errors import ConfigError

    base = "version: 1\nsources: [{name: a, path: a.csv}]\n"
    for body, words in (
        ("engine: dask\n", "engine"),
        ("spark: {conf: {executor.memory: 2g}}\n", "Spark settings start with spark."),
        ("spark: {partitions: 0}\n", "partitions"),
        ("spark: {mastr: local}\n", "mastr"),
    ):
        path = tmp_path / "c.yaml"
        path.write_text(base + body, encoding="utf-8")
        with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
            load_config(path)
    path.write_text(
        base + "engine: spark\nspark: {master: 'local[4]', conf: {spark.driver.memory: 3g}}\n",
        encoding="utf-8",
    )
    cfg = load_config(path)
    assert cfg.engine == "spark" and cfg.spark.master == "local[4]"
    from audit.spark import session_conf

    conf = session_conf(cfg.spark)
    assert conf["spark.driver.memory"] == "3g"
    assert conf["spark.driver.bindAddress"] == "127.0.0.1"  # local: loopback only
    assert "spark.driver.bindAddress" not in session_conf(SparkConfig(master="yarn"))


def test_a_local_session_gets_a_heap_that_grows_with_the_machine() -> None:
    """A fixed 2g heap died at 1M contacts (normalize's results pass the local JVM); a third of
    the machine's memory ran them. A cluster's driver memory stays the user's to set."""
    from audit.spark import local_heap, session_conf

    gib = 2**30
    assert local_heap(24 * gib) == "8g"
    assert local_heap(16 * gib) == "5g"
    assert local_heap(4 * gib) == "2g"  # never under the 2g that 100k contacts need
    assert local_heap(512 * gib) == "32g"
    local = session_conf(SparkConfig(master="local[2]"))
    assert local["spark.driver.memory"] == local_heap()
    assert local["spark.driver.maxResultSize"] == "0"
    assert "spark.driver.memory" not in session_conf(SparkConfig(master="yarn"))
    own = session_conf(SparkConfig(master="local[2]", conf={"spark.driver.memory": "3g"}))
    assert own["spark.driver.memory"] == "3g"


@pytest.mark.spark
def test_a_local_sessions_jvm_compiles_with_the_quick_compiler_only(spark) -> None:
    """The local JVM lives one run and compiles new code for every query; C2 cost more CPU
    than it saved (validate at 100k: the JVM's CPU 64.9 -> 34.8 s). Asked of the running JVM;
    a cluster's driver and a user's own options are left alone."""
    from audit.spark import session_conf

    jvm = spark.sparkContext._jvm
    args = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert "-XX:TieredStopAtLevel=1" in args
    assert "spark.driver.extraJavaOptions" not in session_conf(SparkConfig(master="yarn"))
    own = {"spark.driver.extraJavaOptions": "-Xss4m"}
    assert session_conf(SparkConfig(conf=own))["spark.driver.extraJavaOptions"] == "-Xss4m"


@pytest.fixture(scope="module")
def demo_records(small_demo: Path):
    """The small demo's normalized records (and its config), as the validate stage gets them."""
    from audit.pipeline import analyse

    cfg = load_config(demo_config(small_demo))
    result = analyse(cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"gx": False})}))
    return cfg, result.records


def test_frames_reach_a_partition_with_their_dtypes_and_missing_values(demo_records) -> None:
    """What a check sees on a partition is the driver's frame: dtypes, None vs NaN, ns times."""
    from audit.spark.frames import POS, decode, dtypes_of, encode

    _, records = demo_records
    assert {str(d) for f in records.values() for d in f.dtypes} >= {
        "object",
        "str",
        "Int64",
        "boolean",
        "float64",
        "datetime64[ns, UTC]",
    }
    for entity, frame in records.items():
        frame = frame.iloc[::-1]  # any index: positions travel, not labels
        back = decode(encode(frame), dtypes_of(frame))
        assert back[POS].tolist() == list(range(len(frame)))
        back = back.drop(columns=[POS])
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_exact=True)
        for col in frame.columns:
            kinds = [type(v) for v in frame[col]]
            assert [type(v) for v in back[col]] == kinds, (entity, col)
    stamp = pd.Series(pd.to_datetime(["2026-01-02 03:04:05.123456789", None], utc=True))
    back = decode(encode(stamp.to_frame("at")), {"at": stamp.dtype})["at"]
    assert back.iloc[0].nanosecond == 789 and back.isna().tolist() == [False, True]


def test_a_column_spark_cannot_carry_is_refused_by_name() -> None:
    from audit.spark.frames import encode

    with pytest.raises(TypeError, match="column 'extra' holds dict values"):
        encode(pd.DataFrame({"extra": [None, {"a": 1}]}, dtype=object))


@pytest.mark.spark
def test_a_local_session_reads_frames_from_files_that_go_after_the_stage(
    demo_records, spark
) -> None:
    """Inside `staging` (every Spark stage), past its memory budget (none here), a local
    session gets a frame as Parquet files, one per slice of consecutive rows, so neither the
    heap nor a task holds its rows (at 300k contacts with a 1g heap, validate died serializing
    a task that carried them). The rows come back as they went, each slice whole in one
    partition, and the files are gone after."""
    from pyspark.sql import functions as F

    from audit.spark.frames import POS, decode, dtypes_of, staging, to_spark

    _, records = demo_records
    frame = records["contacts"]
    with staging(spark, in_memory=0):
        sdf = to_spark(spark, frame, 3)
        files = [Path(f.removeprefix("file:")) for f in sdf.inputFiles()]
        assert len(files) == 3 and all(f.suffix == ".parquet" and f.exists() for f in files)
        where = sdf.select(POS, F.spark_partition_id().alias("p")).toPandas()
        per = where.groupby("p")[POS].agg(["min", "max", "count"])
        assert len(per) == 3
        assert ((per["max"] - per["min"] + 1) == per["count"]).all()
        back = decode(sdf.toArrow(), dtypes_of(frame)).sort_values(POS, kind="stable")
    assert not any(f.exists() for f in files) and not files[0].parent.exists()
    assert back.pop(POS).tolist() == list(range(len(frame)))
    pd.testing.assert_frame_equal(
        back.reset_index(drop=True), frame.reset_index(drop=True), check_exact=True
    )


@pytest.mark.spark
def test_frames_go_in_memory_up_to_an_eighth_of_the_heap_then_through_files(
    demo_records, spark
) -> None:
    """Files cost a write, a scan per slice and a Parquet decode: a stage's frames go in
    memory while they add up to an eighth of the heap (by default), only the rest in files;
    the rows are the same either way."""
    from audit.spark.frames import POS, decode, dtypes_of, encode, heap_bytes, staging, to_spark

    _, records = demo_records
    contacts, deals = records["contacts"], records["deals"]
    assert encode(contacts).nbytes < heap_bytes(spark) // 8
    with staging(spark):  # the demo's frames are far below an eighth of the heap
        assert to_spark(spark, contacts, 3).inputFiles() == []
    with staging(spark, in_memory=encode(contacts).nbytes):
        first, second = to_spark(spark, contacts, 3), to_spark(spark, deals, 2)
        assert first.inputFiles() == [] and len(second.inputFiles()) == 2
        for sdf, frame in ((first, contacts), (second, deals)):
            back = decode(sdf.toArrow(), dtypes_of(frame)).sort_values(POS, kind="stable")
            assert back.pop(POS).tolist() == list(range(len(frame)))
            pd.testing.assert_frame_equal(
                back.reset_index(drop=True), frame.reset_index(drop=True), check_exact=True
            )


def _spread(records: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The demo's records with rows that belong together put far apart: a contact repeating
    the first contact's id in its source (last row), two copies of a deal without an id
    (first and last row), and three soft bounces of one contact's address (first, middle and
    last email event). Cut into 4 partitions, each pair starts in different partitions."""
    out = dict(records)
    contacts = records["contacts"]
    again = contacts[contacts["external_id"].notna()].iloc[[0]].assign(record_id="spread:c")
    out["contacts"] = pd.concat([contacts, again], ignore_index=True)
    deals = records["deals"]
    twin = deals.iloc[[0]].copy()
    twin["external_id"] = None
    first, last = twin.assign(record_id="spread:d1"), twin.assign(record_id="spread:d2")
    out["deals"] = pd.concat([first, deals, last], ignore_index=True)
    events = records["email_events"]
    soft = events.iloc[[0, 0, 0]].copy()
    soft["record_id"] = ["spread:e1", "spread:e2", "spread:e3"]
    soft["address"] = contacts["email"].dropna().iloc[len(contacts) // 2]
    soft["event"], soft["classification"] = "bounce", "soft"
    at = pd.to_datetime(["2026-05-01", "2026-06-01", "2026-07-01"], utc=True)
    soft["occurred_at"] = pd.Series(at, index=soft.index).astype(events["occurred_at"].dtype)
    half = len(events) // 2
    out["email_events"] = pd.concat(
        [soft.iloc[[0]], events.iloc[:half], soft.iloc[[1]], events.iloc[half:], soft.iloc[[2]]],
        ignore_index=True,
    )
    return out


def _partition_of(spark, frame: pd.DataFrame, record_ids: list[str]) -> set[int]:
    """The partitions the Spark engine's copy of `frame` starts these records in."""
    from pyspark.sql import functions as F

    from audit.spark.frames import to_spark

    sdf = to_spark(spark, frame[["record_id"]], 4)
    got = sdf.where(F.col("record_id").isin(record_ids)).select(F.spark_partition_id()).collect()
    assert len(got) == len(record_ids)
    return {row[0] for row in got}


@pytest.mark.spark
def test_validate_on_spark_gives_the_pandas_findings_counts_and_contract(
    demo_records, spark
) -> None:
    """Per partition, by each rule's scope, with the GX contract on GX's Spark datasource:
    the issues, the per-rule counts and the contract are the pandas engine's, also for keys
    and email keys whose rows start out in different partitions."""
    from audit.spark.validate import validate_on_spark
    from audit.validate import validate

    cfg, records = demo_records
    records = _spread(records)
    rules = cfg.rules.model_copy(update={"gx": True})
    args = {"as_of": cfg.as_of, "stale_after_days": cfg.stale_after_days}
    want = validate(records, rules, base_dir=Path(cfg.base_dir), **args)
    failed = dict(zip(want.checked["rule_id"], want.checked["n_failed"], strict=True))
    # the planted rows are found by the pandas engine: key and email-key rules with findings
    assert failed["contacts.external_id.unique"] == 2
    assert failed["deals.row.duplicate"] == 1
    assert failed["contacts.email.soft_bounced"] >= 1
    assert failed["contacts.email.cleaned"] > 0 and failed["contacts.email.bounced"] > 0
    issues = want.issues
    dup = issues[issues["rule_id"].eq("contacts.external_id.unique")]["record_id"].tolist()
    assert len(_partition_of(spark, records["contacts"], dup)) == 2
    assert len(_partition_of(spark, records["deals"], ["spread:d1", "spread:d2"])) == 2
    spread = ["spread:e1", "spread:e2", "spread:e3"]
    assert len(_partition_of(spark, records["email_events"], spread)) == 3
    evidence = issues[issues["rule_id"].eq("deals.row.duplicate")]["evidence"].tolist()
    assert evidence == ["same as spread:d1"]  # the first copy in the frame's own order

    got = validate_on_spark(
        spark,
        records,
        rules,
        base_dir=Path(cfg.base_dir),
        partitions=4,
        rows_per_partition=1,  # as cut above, whatever the demo's size
        **args,
    )
    assert got.issues.to_csv(index=False) == want.issues.to_csv(index=False)
    assert got.checked.to_csv(index=False) == want.checked.to_csv(index=False)
    assert want.contract["results"] and want.contract["agrees_with_engine"]
    assert json.dumps(got.contract, sort_keys=True) == json.dumps(want.contract, sort_keys=True)
    # the bucket count changes nothing either
    one = validate_on_spark(
        spark,
        records,
        rules.model_copy(update={"gx": False}),
        partitions=1,
        base_dir=Path(cfg.base_dir),
        **args,
    )
    assert one.issues.to_csv(index=False) == want.issues.to_csv(index=False)
    assert np.array_equal(one.checked["n_checked"], want.checked["n_checked"])


@pytest.fixture(scope="module")
def demo_ingest(small_demo: Path):
    """The small demo's sources as read, two contact sources without their phone_region (so
    their region is inferred from the source's own rows), and the deals' created_at written
    day first, where only the first quarter of the rows tells (25/03/2026), the rest not
    (05/04/2026): that quarter sits in one of 4 partitions, the order is the column's."""
    from audit.config import with_business_timezone
    from audit.sources import read_sources
    from audit.sources.readers import Limits

    cfg = with_business_timezone(load_config(demo_config(small_demo)))
    ingest = read_sources(
        cfg.sources, base_dir=Path(cfg.base_dir), limits=Limits(**cfg.limits.model_dump())
    )
    unset = ("seoul_contacts", "tokyo_customers")
    sources = [
        s.model_copy(update={"phone_region": None}) if s.name in unset else s for s in cfg.sources
    ]
    records = dict(ingest.records)
    deals = records["deals"].copy()
    quarter = len(deals) // 4
    deals["created_at"] = pd.Series(
        ["25/03/2026"] * quarter + ["05/04/2026"] * (len(deals) - quarter),
        index=deals.index,
        dtype=deals["created_at"].dtype,
    )
    records["deals"] = deals
    args = {"files": ingest.files, "calendar_tz": cfg.kpis.timezone}
    return cfg, records, sources, args


@pytest.mark.spark
def test_normalize_on_spark_gives_the_pandas_records_and_issues(
    demo_ingest, spark, monkeypatch
) -> None:
    """Per partition, contacts in whole sources, date orders from the whole column: every
    record frame (values and dtypes) and every finding is the pandas engine's."""
    from audit.normalize import normalize
    from audit.spark import normalize as on_spark

    passes: list[list[str]] = []  # the entities each Spark pass reads
    first_pass = on_spark._run

    def counted(shipped, entities, *args, **kwargs):
        passes.append(sorted(entities[x] for x in shipped))
        return first_pass(shipped, entities, *args, **kwargs)

    monkeypatch.setattr(on_spark, "_run", counted)

    cfg, records, sources, args = demo_ingest
    want, want_issues = normalize(records, cfg.normalize, sources, **args)
    created = want["deals"]["created_at"]
    assert created.dt.month.eq(4).sum() == len(created) - len(created) // 4  # 5 April
    inferred = want_issues[want_issues["rule_id"].eq("normalize.phone.region_inferred")]
    assert len(inferred) >= 1  # a source-level finding, from the whole source

    got, got_issues = on_spark.normalize_on_spark(
        spark, records, cfg.normalize, sources, partitions=4, rows_per_partition=1, **args
    )
    # the partitions without a telling date read the deals again, with the column's order
    assert len(passes) == 2 and "deals" in passes[1] and "contacts" not in passes[1]
    assert sorted(got) == sorted(want)
    for entity, frame in want.items():
        pd.testing.assert_frame_equal(got[entity], frame, check_exact=True)
    assert got_issues.to_csv(index=False) == want_issues.to_csv(index=False)


@pytest.mark.spark
def test_normalize_on_spark_cuts_real_sources_by_rows(spark) -> None:
    """The real exports (tests/fixtures/real) as one workspace, its contacts cut into slices
    of 40 rows that split the sources: a first pass decides each source's phone region, the
    slices' tallies its source finding; the records and findings are the pandas engine's."""
    import datetime as dt

    from audit import config_for_paths
    from audit.normalize import normalize
    from audit.sources import read_sources
    from audit.sources.readers import Limits
    from audit.spark.normalize import normalize_on_spark

    real = Path(__file__).parent / "fixtures" / "real"
    cfg = config_for_paths(
        sorted(p for p in real.iterdir() if p.suffix in (".csv", ".vcf")), as_of=dt.date(2026, 1, 1)
    )
    ingest = read_sources(
        cfg.sources, base_dir=Path(cfg.base_dir), limits=Limits(**cfg.limits.model_dump())
    )
    args = {"files": ingest.files, "calendar_tz": cfg.kpis.timezone}
    want, want_issues = normalize(ingest.records, cfg.normalize, cfg.sources, **args)
    by_rule = want_issues["rule_id"].value_counts()
    assert (
        by_rule["normalize.phone.region"] == 1 and by_rule["normalize.phone.region_inferred"] >= 3
    )
    assert len(ingest.records["contacts"]) > 10 * 40

    got, got_issues = normalize_on_spark(
        spark, ingest.records, cfg.normalize, cfg.sources, partitions=4, max_rows=40, **args
    )
    for entity, frame in want.items():
        pd.testing.assert_frame_equal(got[entity], frame, check_exact=True)
    assert got_issues.to_csv(index=False) == want_issues.to_csv(index=False)


def test_tables_are_cut_by_their_size_up_to_twice_the_cores() -> None:
    """A small table is one Python call, a large one one call per 50,000 rows, never more
    than the cap; a local session's cap (and shuffle partitions) is twice its cores."""
    from audit.spark import session_conf
    from audit.spark.frames import slices

    assert [slices(n, 8) for n in (0, 64, 49_999, 50_001, 101_927, 957_733)] == [1, 1, 1, 2, 3, 8]
    assert slices(101_927, 8, rows_per_partition=1) == 8
    assert session_conf(SparkConfig())["spark.sql.shuffle.partitions"] == "4"  # local[2]
    assert session_conf(SparkConfig(partitions=12))["spark.sql.shuffle.partitions"] == "12"
    assert "spark.sql.shuffle.partitions" not in session_conf(SparkConfig(master="yarn"))
