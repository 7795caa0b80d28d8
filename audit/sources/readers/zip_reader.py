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

MAX_RATIO = 200  # inflated / packed above which more than 64 MiB of content is a zip bomb


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
    limits = opts.limits
    limit = limits.max_unpacked_mb << 20
    with zf, tempfile.TemporaryDirectory(prefix="crm-audit-zip-") as tmp:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.max_members:
            raise InputError(
                f"{path}: holds {len(infos):,} files (limits.max_members is "
                f"{limits.max_members:,}); it was not read. Unpack it and audit the folder."
            )
        total = sum(i.file_size for i in infos)
        packed = sum(i.compress_size for i in infos) or 1
        if total > limit or (total > (64 << 20) and total / packed > MAX_RATIO):
            raise InputError(
                f"{path}: would inflate to {total >> 20} MiB from {packed >> 10} KiB (a zip "
                f"bomb or a corrupt archive; limits.max_unpacked_mb is {limits.max_unpacked_mb}"
                "); it was not read."
            )
        skipped: list[str] = []
        written = 0
        for n, info in enumerate(sorted(infos, key=lambda i: i.filename)):
            # Windows tools write folder\file.csv: the same member a POSIX tool writes with '/'
            name = PurePosixPath(info.filename.replace("\\", "/"))
            if "__MACOSX" in name.parts or any(p.startswith(".") for p in name.parts):
                skipped.append(f"{info.filename} (hidden or macOS metadata)")
                continue
            if info.flag_bits & 0x1:  # zipfile would raise "password required"
                skipped.append(f"{info.filename} (password-protected; unpack it first)")
                continue
            spec = reader_for_suffix(name.suffix)
            if spec is None or spec.name == "zip":
                why = "an archive inside the archive" if spec else "no reader for this kind"
                skipped.append(f"{info.filename} ({why})")
                continue
            target = Path(tmp) / f"member{n}{name.suffix}"
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    # count what really comes out: a member's declared size can lie
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > limit:
                            raise InputError(
                                f"{path}: inflates past {limits.max_unpacked_mb} MiB at member "
                                f"{info.filename} (limits.max_unpacked_mb); it was not read."
                            )
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
                warnings=[f"{len(skipped)} member(s) not read: {'; '.join(skipped)}"],
                member="(skipped)",
            )
