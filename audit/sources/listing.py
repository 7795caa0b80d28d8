"""Which files a folder holds for auditing, which it does not, and what each source is called.

One place for the three callers that turn folders into sources (`init`, a folder given to
`audit`/`run`, a folder `path:` in a config), so they cannot drift apart: the same files are
read, the same files are listed as not read (with the reason), and a file gets the same source
name everywhere. Imports nothing of the package, so `audit.config` can use it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

# Office/LibreOffice lock files sit next to an open workbook; they are not exports
_LOCK = ("~$", ".~lock.")
_NAME_BAD = re.compile(r"[^\w\-]+")


def skip_reason(rel_parts: tuple[str, ...]) -> str | None:
    """Why a file at this path inside a folder is not read, or None when it is read."""
    name = rel_parts[-1]
    if name.startswith(_LOCK):
        return "Office lock file (the workbook was open when the folder was copied)"
    if name.startswith("."):
        return "hidden file"
    if any(p.startswith(".") for p in rel_parts[:-1]):
        return "inside a hidden folder"
    if name.lower() in ("thumbs.db", "desktop.ini"):
        return "operating system file"
    return None


def folder_files(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(files to read, [(file not read, reason)]), both sorted, for the whole folder tree.

    Exports arrive as nested folders (Google Takeout/Mail/All mail.mbox, Mailchimp's
    members_export_*/cleaned.csv), so the tree is walked; hidden and lock files are not read
    but are returned so that the run lists them.
    """
    read: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for p in sorted(folder.rglob("*")):
        if p.is_dir():
            continue
        if not p.is_file():  # never silently: a pipe or device is not read, and is listed
            broken = p.is_symlink() and not p.exists()
            skipped.append((p, "a broken link" if broken else "not a regular file"))
            continue
        why = skip_reason(p.relative_to(folder).parts)
        if why is None:
            read.append(p)
        else:
            skipped.append((p, why))
    return read, skipped


def source_name(path: Path, used: set[str]) -> str:
    """A readable, unique source name from a file name: `顧客管理_2026.xlsx` -> `顧客管理_2026`.

    Names become part of record ids, so they keep letters of any script, digits, `_` and `-`
    (what SourceConfig accepts); `used` is updated so that two `contacts.csv` in different
    folders become `contacts` and `contacts_2`.
    """
    stem = unicodedata.normalize("NFKC", path.stem)
    base = _NAME_BAD.sub("_", stem).strip("_").lower() or "source"
    name, i = base, 2
    while name in used:
        name, i = f"{base}_{i}", i + 1
    used.add(name)
    return name
