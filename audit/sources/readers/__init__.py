"""File-format readers: one module per format, registered by `@reader` in one registry.

A reader turns one file into `RawTable`s: a header and text rows exactly as written, with no
type inference (typing belongs to normalize, so leading zeros and phone formats survive).
Rows it cannot take are returned as `Rejected` entries rather than raised, so the sources
stage can keep `rows_read == rows_ingested + rows_rejected` for every file.

Built-in readers are imported in the explicit list at the bottom (no directory scanning).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from audit.registry import Registry


@dataclass(frozen=True)
class Limits:
    """Resource bounds every reader honours, so that a small hostile file cannot take the
    machine: a 5 KB workbook that claims 17 billion cells, a zip that inflates to gigabytes,
    JSON nested ten thousand levels deep. Defaults fit real exports with room to spare; the
    config's `limits:` section raises them (names and defaults are listed in the README).
    """

    max_sheet_cells: int = 50_000_000  # rows x columns of one sheet's used area
    max_unpacked_mb: int = 2048  # total inflated size of one archive or workbook
    max_members: int = 10_000  # files inside one archive
    max_nesting: int = 200  # JSON arrays and objects inside each other


@dataclass(frozen=True)
class ReaderOptions:
    """Per-source overrides from the config; None means detect."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    where: str = ""  # how to name the source in error hints, e.g. "sources[0]"
    limits: Limits = field(default_factory=Limits)
    # worker processes already started for a mailbox's messages (see mail.start_pool)
    pool: Executor | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Rejected:
    """A row the reader saw but could not take: it becomes a `source.row.*` issue."""

    row: int  # 1-based data-row number (or message number)
    line: int | None  # 1-based physical line in the file, when known
    rule: str  # source.row.<what>
    reason: str
    value: str  # the raw row text (truncated by the caller)
    severity: str = "error"


@dataclass
class RawTable:
    """One table read from a file (a CSV, one sheet, one entity gathered from mail)."""

    # columns = header as written (made unique); values text, or missing: None in object
    # columns, NaN in Arrow text columns (pandas `str`: the CSV reader's fast path)
    frame: pd.DataFrame
    source_row: list[int] | None = None  # 1-based data-row numbers; None means 1..len(frame)
    rejected: list[Rejected] = field(default_factory=list)
    reader: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    warnings: list[str] = field(default_factory=list)
    entity: str | None = None  # fixed by the reader (mail, vcf) instead of detected
    canonical: bool = False  # headers are already canonical column names
    aggregate: str | None = None  # merge rows of all files of a source on this column
    member: str | None = None  # archive member the table came from (zip reader)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.rejected)


ReadFn = Callable[[Path, ReaderOptions], Iterator[RawTable]]


@dataclass(frozen=True)
class ReaderSpec:
    name: str
    fn: ReadFn
    suffixes: tuple[str, ...]
    doc: str = ""
    folder: bool = False  # reads a folder as one input (e.g. a folder of .eml files)


READERS: Registry[ReaderSpec] = Registry("reader")


def reader(
    name: str, *, suffixes: tuple[str, ...] = (), folder: bool = False
) -> Callable[[ReadFn], ReadFn]:
    """Register a reader function under `name` for the given file suffixes."""

    def deco(fn: ReadFn) -> ReadFn:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        READERS.add(name, ReaderSpec(name, fn, tuple(s.lower() for s in suffixes), doc, folder))
        return fn

    return deco


def reader_for_suffix(suffix: str) -> ReaderSpec | None:
    suffix = suffix.lower()
    for _, spec in READERS.items():
        if suffix in spec.suffixes:
            return spec
    return None


# Built-in readers, in an explicit list (STYLE 2.6).
from audit.sources.readers import (  # noqa: E402
    csv_reader,
    eml_reader,
    emlx_reader,
    excel_reader,
    json_reader,
    mbox_reader,
    vcf_reader,
    zip_reader,
)

BUILTIN_READERS = (
    csv_reader,
    excel_reader,
    mbox_reader,
    eml_reader,
    emlx_reader,
    vcf_reader,
    json_reader,
    zip_reader,
)
