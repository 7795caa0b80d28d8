"""Column-at-a-time helpers: run a per-value function once per distinct value.

CRM columns repeat values heavily (countries, owners, stages, the same email in three sources),
so every normalizer works on `pd.factorize` uniques and broadcasts back. Expensive per-value work
(phonenumbers, email-validator) can also be spread over processes here: the one place that
knows about the pool. normalize and validate both work this way, so it sits below the stages.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Below this many distinct values a process pool costs more than it saves (fork + pickling).
PARALLEL_MIN = 20_000
WORKERS = 2


def workers() -> int:
    """Worker processes for expensive validators (CRM_AUDIT_WORKERS overrides; 1 = serial)."""
    try:
        return max(1, int(os.environ.get("CRM_AUDIT_WORKERS", WORKERS)))
    except ValueError:
        return WORKERS


def fork_child(
    target: Callable[..., None],
    args: tuple[Any, ...],
    *,
    name: str,
    daemon: bool,
    duplex: bool,
) -> tuple[Any, Connection] | None:
    """`target(their_end, *args)` started in a forked child; (process, our end of the pipe).

    None where the work should run in this process instead: one worker asked for
    (`CRM_AUDIT_WORKERS=1`), no fork on this system, or no process to spare. A forked child
    inherits the caller's frames as they are (no pickling), which is why the GX contract and
    the merge review run this way beside the main process.
    """
    if workers() <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    mp = multiprocessing.get_context("fork")
    here, there = mp.Pipe(duplex=duplex)
    proc = mp.Process(target=target, args=(there, *args), name=name, daemon=daemon)
    try:
        proc.start()
    except OSError:  # no process to spare: run it here
        here.close()
        there.close()
        return None
    there.close()
    return proc, here


def stop_child(proc: Any, conn: Connection | None) -> None:
    """Close our end of a `fork_child` pipe, give the child half a second to end, then stop it
    and wait: nothing it does may outlive the caller's error handling."""
    if conn is not None:
        conn.close()
    if proc is not None:
        proc.join(timeout=0.5)
        if proc.is_alive():
            proc.terminate()
            proc.join()
        proc.close()


def _apply_chunk(args: tuple[Callable[[Any], Any], Sequence[Any]]) -> list[Any]:
    fn, values = args
    return [fn(v) for v in values]


def map_values(
    fn: Callable[[Any], Any], values: Sequence[Any], *, parallel: bool = True
) -> list[Any]:
    """[fn(v) for v in values], split across processes when there are many values.

    `fn` must be a module-level function (it is pickled by reference). Order is kept, so the
    result is identical to the serial loop.
    """
    return start_map(fn, values, parallel=parallel)()


def start_map(
    fn: Callable[[Any], Any], values: Sequence[Any], *, parallel: bool = True
) -> Callable[[], list[Any]]:
    """map_values started now and collected later: the workers run while the caller goes on
    with other columns. Call the returned function exactly once to get the results (below the
    parallel threshold the serial loop simply runs then).
    """
    n_workers = workers() if parallel else 1
    if n_workers <= 1 or len(values) < PARALLEL_MIN:
        return lambda: [fn(v) for v in values]
    values = list(values)
    step = -(-len(values) // (n_workers * 4))
    pool = ProcessPoolExecutor(max_workers=n_workers)
    futures = [
        pool.submit(_apply_chunk, (fn, values[i : i + step])) for i in range(0, len(values), step)
    ]

    def collect() -> list[Any]:
        out: list[Any] = []
        try:
            for f in futures:
                out.extend(f.result())
        finally:
            pool.shutdown(cancel_futures=True)
        return out

    return collect


def factorize(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes (-1 for missing) and the distinct non-missing values as Python objects."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, list(np.asarray(uniques, dtype=object))


def broadcast(
    codes: np.ndarray, results: Sequence[Any], index: pd.Index, dtype: str | None = "str"
) -> pd.Series:
    """Spread per-unique results back over the rows (missing rows get None/NA).

    The typed array is built from the few distinct results and then gathered with `take`,
    which is much cheaper than converting a million Python objects.
    """
    picks = np.where(codes < 0, len(results), codes)
    if dtype is None:
        arr = np.empty(len(results) + 1, dtype=object)
        arr[: len(results)] = results
        arr[len(results)] = None
        return pd.Series(arr[picks], index=index, dtype=object)
    typed = pd.array([*results, None], dtype=dtype)
    return pd.Series(typed.take(picks), index=index)


def map_unique(
    series: pd.Series,
    fn: Callable[[Any], Any],
    *,
    dtype: str | None = "str",
    parallel: bool = False,
) -> pd.Series:
    """fn over the distinct non-missing values of `series`, broadcast back to every row."""
    codes, uniques = factorize(series)
    return broadcast(codes, map_values(fn, uniques, parallel=parallel), series.index, dtype)


def as_text(series: pd.Series) -> pd.Series:
    """The column as text (str dtype, missing stays missing), whatever the reader left in it."""
    if series.dtype == "str":
        return series
    return series.astype("str")


def isin(values: pd.Series | np.ndarray, candidates: Iterable[Any]) -> np.ndarray:
    """`pd.Series(values).isin(candidates)` as a bool array, by one Arrow hash set when both
    sides are text.

    pandas 3 builds the value set of an Arrow text column one Python scalar at a time (about
    1 µs a candidate), so a test against 100k record ids cost more than the rest of the step.
    Anything else (numbers, mixed objects, a missing candidate) goes to pandas as before.
    """
    kept = (list, np.ndarray, pd.Index, pd.Series)
    cand = candidates if isinstance(candidates, kept) else list(candidates)
    try:
        left = pa.array(values, from_pandas=True)
        text = pa.types.is_string(left.type) or pa.types.is_large_string(left.type)
        right = pa.array(cand, type=left.type if text else pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        text = False
    if not text or right.null_count:
        return pd.Series(values).isin(cand).to_numpy(dtype=bool)
    hit = pc.fill_null(pc.is_in(left, value_set=right), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def positions_in(values: Any, value_set: Any) -> np.ndarray:
    """Each Arrow value's position in the Arrow `value_set` (its first match), -1 where it has
    none: a lookup of text ids without a Python string per id."""
    at = pc.fill_null(pc.index_in(values, value_set=value_set), -1)
    return np.asarray(at.to_numpy(zero_copy_only=False), dtype=np.intp)


def shared_objects(series: pd.Series, *, as_text: bool = False) -> np.ndarray:
    """`series.astype("object").to_numpy()` (with `as_text`: `series.astype(str)` first) whose
    cells share one Python object per distinct value.

    Turning an Arrow text column into objects makes a new Python string per row (3.4M owners,
    sources and ids at 1M contacts, tens of bytes each), whether the table built from them
    keeps them as objects (the per-record scores' owners) or pandas turns them back into Arrow
    text. An object column of strings is returned as it is (its strings are already there);
    other text columns are factorized and their distinct values spread by position.
    """
    if series.dtype == object:
        arr = series.to_numpy()
        if not as_text or pd.api.types.infer_dtype(arr, skipna=False) == "string":
            return arr
        series = series.astype(str)
    elif as_text and series.dtype != "str":
        series = series.astype(str)
    elif not pd.api.types.is_string_dtype(series.dtype):
        return series.astype("object").to_numpy()  # numbers, times: as pandas gives them
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[: len(uniques)] = list(uniques)
    values[len(uniques)] = series.dtype.na_value if hasattr(series.dtype, "na_value") else None
    return values[codes]
