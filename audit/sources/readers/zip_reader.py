"""ZIP archives of exports (Mailchimp audience export, Salesforce/HubSpot data exports).

Each member with a known format is extracted to a private temporary folder (with size and
ratio limits, so a zip bomb is refused) and read by that format's reader; the member name is
kept so provenance reads `export.zip!cleaned_members_export.csv`.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pandas as pd

from audit.errors import InputError
from audit.sources.readers import RawTable, ReaderOptions, reader, reader_for_suffix

MAX_MEMBER = 1 << 30  # 1 GiB inflated per member
MAX_TOTAL = 4 << 30
MAX_RATIO = 200


@reader("zip", suffixes=(".zip",))
def read_zip(path: Path, opts: ReaderOptions) -> Iterator[RawTable]:
    """Every CSV/Excel/vCard/mail member of the archive, each with its own reader."""
    if path.stat().st_size == 0:
        yield RawTable(frame=pd.DataFrame(), reader="zip", warnings=["file is empty"])
        return
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(
            f"{path}: is not a readable ZIP archive ({e}); download it again."
        ) from None
    with zf, tempfile.TemporaryDirectory(prefix="crm-audit-zip-") as tmp:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL:
            raise InputError(f"{path}: would inflate to {total >> 20} MiB; it was not read.")
        skipped = []
        for n, info in enumerate(sorted(infos, key=lambda i: i.filename)):
            name = PurePosixPath(info.filename)
            if name.name.startswith((".", "__MACOSX")) or "__MACOSX" in name.parts:
                continue
            spec = reader_for_suffix(name.suffix)
            if spec is None or spec.name == "zip":
                skipped.append(info.filename)
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_MEMBER or (info.file_size > (64 << 20) and ratio > MAX_RATIO):
                raise InputError(
                    f"{path}: member {info.filename} would inflate to {info.file_size >> 20} MiB "
                    "(a zip bomb or a corrupt archive); it was not read."
                )
            target = Path(tmp) / f"member{n}{name.suffix}"
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise InputError(
                    f"{path}: member {info.filename} is damaged ({e}); download the archive again."
                ) from None
            for table in spec.fn(target, opts):
                table.member = info.filename
                table.warnings = [w.replace(str(target), info.filename) for w in table.warnings]
                yield table
            target.unlink()
        if skipped:
            yield RawTable(
                frame=pd.DataFrame(),
                reader="zip",
                warnings=[f"skipped members with no reader: {', '.join(skipped)}"],
                member="(skipped)",
            )
