"""The Spark engine gives the pandas engine's output, byte for byte (issue #12).

One local[2] session for the whole test session (bound to loopback, UI off); every test that
needs it is marked `spark` and skipped when pyspark or Java is missing, so `pytest -m spark`
selects them and the default loop stays fast on a machine without Java.
"""

from __future__ import annotations

import json
from pathlib import Path

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

    session, new = start_session(SparkConfig(partitions=4))
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
    got = match(contacts, MatchConfig(), linker=linker(spark, buckets))
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
    got = match(contacts, MatchConfig(), linker=linker(spark, 4, driver_edges=0))
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
