"""A run folder's manifest: every file with its sha256, written last, checked by every reader.

A run folder is complete only when its manifest exists (DESIGN.md, "Memory across runs"). The
report stage writes it; merge, report re-renders and every command that reads a run folder check
it, so the format lives here, below the stages that share it.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from audit.errors import InputError
from audit.fsio import sha256_file

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "crm-audit.run-manifest"
# written into a run folder after its manifest, by other commands, with their own journal
NOT_IN_MANIFEST = ("merged",)


def _manifest_files(run_dir: Path) -> list[str]:
    out = []
    for p in sorted(run_dir.rglob("*")):
        rel = p.relative_to(run_dir).as_posix()
        if rel == MANIFEST or rel.split("/", 1)[0] in NOT_IN_MANIFEST or not p.is_file():
            continue
        if any(part.startswith(".") for part in rel.split("/")):  # temporary or staging
            continue
        out.append(rel)
    return out


def write_manifest(run_dir: Path, run_id: str) -> Path:
    """manifest.json: every file of the folder with its sha256. Written last, atomically."""
    from audit.fsio import atomic_write

    run_dir = Path(run_dir)
    rels = _manifest_files(run_dir)
    # two files hashed at a time: hashlib and file reads release the GIL (1.3 GB at 1M)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="manifest") as pool:
        digests = list(pool.map(lambda rel: sha256_file(run_dir / rel), rels))
    files = dict(zip(rels, digests, strict=True))
    doc = {"format": MANIFEST_FORMAT, "run_id": run_id, "files": files}
    return atomic_write(run_dir / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")


def manifest_complete(run_dir: Path) -> bool:
    """Whether a (staged) folder got its manifest: the last thing a run writes."""
    return (Path(run_dir) / MANIFEST).is_file()


def check_run_folder(run_dir: Path) -> dict[str, str]:
    """Refuse a run folder that is incomplete or changed since its run; return its file list.

    The manifest is read as untrusted input: every path it names must stay inside the folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(
            f"{run_dir}: not a run folder. Give a folder under reports/, "
            "e.g. reports/20260131T090512-1a2b3c."
        )
    path = run_dir / MANIFEST
    if not path.is_file() and not (run_dir / "run.json").is_file():
        raise InputError(
            f"{run_dir}: not a run folder (no run.json). Give a folder under reports/, "
            "e.g. reports/20260131T090512-1a2b3c."
        )
    if not path.is_file():
        raise InputError(
            f"{run_dir}: incomplete run folder (no {MANIFEST}: the run was interrupted or is "
            "still writing); run the audit again."
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc["files"]
        if doc.get("format") != MANIFEST_FORMAT or not isinstance(files, dict):
            raise ValueError("not a crm-audit manifest")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        raise InputError(f"{path}: unreadable manifest ({e}); run the audit again.") from None
    root = run_dir.resolve()
    for rel, digest in sorted(files.items()):
        p = (run_dir / str(rel)).resolve()
        if not str(rel) or Path(str(rel)).is_absolute() or not p.is_relative_to(root):
            raise InputError(f"{path}: names {rel!r}, outside the run folder; refused.")
        if not p.is_file():
            raise InputError(
                f"{run_dir / str(rel)}: missing, but listed in {MANIFEST}; the run folder is "
                "incomplete. Run the audit again."
            )
        if sha256_file(p) != digest:
            raise InputError(
                f"{run_dir / str(rel)}: changed or truncated since the run (checksum differs "
                f"from {MANIFEST}); run the audit again."
            )
    return {str(k): str(v) for k, v in files.items()}
