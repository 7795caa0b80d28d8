"""The Spark engine: the same stages, run per partition on a Spark session (optional extra).

`engine: spark` in a config (or `crm-audit run --engine spark`, or `pipeline.run(cfg,
spark=session)`) runs the heavy stages here. The stage functions are the pandas engine's own,
called on frames of whole blocks or whole keys; whatever needs the whole data set is computed in
a first pass and handed to them (DESIGN.md, "Engines"). This package imports the stages; no
stage imports it. pyspark and a Java runtime are needed only when the engine is chosen.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from audit.config import SparkConfig

INSTALL_HINT = (
    "install the Spark extra (pip install 'crm-audit[spark]') and a Java 17+ runtime "
    "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless), or set engine: pandas"
)


def missing() -> str | None:
    """Why the Spark engine cannot start on this machine (None when it can)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))) and not (
        shutil.which("java")
    ):
        return "no Java runtime was found (java on PATH or JAVA_HOME)"
    return None


def local_cores(master: str) -> int | None:
    """The cores a local master runs on (`local`: 1, `local[N]`, `local[*]`: this machine's),
    None for a cluster."""
    m = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\s*\d+)?\])?", master.strip())
    if m is None:
        return None
    n = m.group(1)
    return os.cpu_count() or 1 if n == "*" else int(n or 1)


def partitions(cfg: SparkConfig, spark: SparkSession) -> int:
    """The most partitions a stage cuts a table into: the config's, else twice the session's
    cores (`defaultParallelism`): enough for every core to stay busy when calls differ in
    length, few enough that each call's fixed cost stays small beside its rows. A stage
    cuts fewer for a small table (`frames.slices`)."""
    if cfg.partitions is not None:
        return cfg.partitions
    return 2 * max(1, int(spark.sparkContext.defaultParallelism))


# the JIT compiler a local session's JVM stops at: C1 only (see `session_conf`)
LOCAL_JVM_OPTIONS = "-XX:TieredStopAtLevel=1"


def local_heap(physical: int | None = None) -> str:
    """A local session's heap: a third of the machine's memory, at least 2g, at most 32g.

    A fixed 2g died at 1M contacts; 8g (a third of 24 GB) ran the 1M demo with the JVM's
    resident size at 6.5 GB. A third leaves the rest to the driver's pandas frames and the
    Python workers beside it. The JVM takes its heap as it needs it, not at start."""
    if physical is None:
        try:
            physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, OSError, ValueError):  # not a POSIX system
            physical = 0
    gib = min(32, max(2, physical // 3 // 2**30))
    return f"{gib}g"


def session_conf(cfg: SparkConfig) -> dict[str, str]:
    """The session settings: the config's own win over these defaults.

    A local session binds to loopback (Spark otherwise picks the host's network address and
    listens there), shows no UI, gets a third of the machine's memory as its heap
    (`local_heap`) and compiles with the JIT's quick compiler only; the session time zone is
    UTC, as every stage's datetimes. Shuffle partitions: the config's, else twice a local
    master's cores.
    """
    conf = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    cores = local_cores(cfg.master)
    if cfg.partitions is not None or cores:
        conf["spark.sql.shuffle.partitions"] = str(cfg.partitions or 2 * (cores or 1))
    if cfg.master.startswith("local"):
        conf.update(
            {
                # the driver's JVM is the executor too: it holds the shuffles and the
                # results collected to the driver (normalize's records, pickled), which at
                # 100k contacts crowd Spark's default heap of 1g, and at 1M contacts a fixed
                # 2g (OutOfMemoryError in normalize, when a contact source lay whole in one call)
                "spark.driver.memory": local_heap(),
                # the results never leave the machine: the limit guards a remote driver
                "spark.driver.maxResultSize": "0",
                # the JVM lives for one run and compiles new code for every query (GX's
                # metrics, each stage's plans): the optimizing compiler (C2) spent more CPU
                # than it saved on 2 cores (validate at 100k contacts: the JVM's CPU 64.9 ->
                # 34.8 s with the quick compiler only)
                "spark.driver.extraJavaOptions": LOCAL_JVM_OPTIONS,
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.driver.host": "127.0.0.1",
                "spark.ui.enabled": "false",
            }
        )
    conf.update({str(k): str(v) for k, v in cfg.conf.items()})
    return conf


def start_session(cfg: SparkConfig) -> tuple[SparkSession, bool]:
    """The active session (a notebook's, a spark-submit job's) if there is one, else a new
    session from the config; and whether it is new (the caller then stops it)."""
    # pyspark 4.x warns on every pandas conversion that pandas 3 is not fully supported; the
    # equality tests against the pandas engine are what this engine relies on instead
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False

    if cfg.master.startswith("local"):
        # local workers run this interpreter (where crm-audit is installed), not "python3"
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(cfg.master).appName("crm-audit")
    for key, value in session_conf(cfg).items():
        builder = builder.config(key, value)
    return builder.getOrCreate(), True
