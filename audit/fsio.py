"""Writing outputs so that a kill, a crash or a full disk never leaves something that looks done.

Three tools, used by every command that writes:

- `atomic_write`: a file is written to a temporary name beside it, flushed to disk, then
  renamed over the target, so a reader sees the old file or the new one, never half of one.
- staged folders (`commit_dir`, `recover_dir`): a folder of outputs (a run folder, a merge
  output) is built under a hidden staging name and renamed into place only when its completion
  marker (the run's manifest, the merge's committed log) is written. Replacing an existing folder
  takes two renames (old aside, new in); `recover_dir` finishes or rolls back an interrupted swap
  so that a folder is always either the old complete one or the new complete one.
- owner locks (`owning`, `sweep_stale`): while a process builds `target`, it holds an advisory
  lock (flock) on `.<target>.lock` beside it. The kernel drops that lock when the process ends,
  however it ends (kill -9 included), so a later run decides liveness by trying to take the
  lock: taken means the owner is gone and its staging, half-swapped or reserved folders can be
  finished or removed; refused means a live process owns them and they are left alone. No pid
  is guessed (pids are reused) and no age threshold is needed.
- `output_errors`: an OSError while writing (disk full, read-only, permission, a file where a
  folder should be, a name too long) becomes one clear line with exit 3 (2 when the folder is
  the config's output path) instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from audit.errors import ConfigError, InputError

__all__ = [
    "CleanupWarning",
    "atomic_write",
    "commit_dir",
    "describe_oserror",
    "fsync_dir",
    "new_staging_dir",
    "output_errors",
    "owning",
    "recover_dir",
    "sha256_file",
    "sweep_stale",
]


class CleanupWarning(UserWarning):
    """Something an interrupted run left behind was finished or removed (one line for the user)."""


_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder, not a file",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EEXIST: "it already exists",
}


def describe_oserror(e: OSError) -> str:
    """'the disk is full' rather than '[Errno 28] No space left on device: ...'."""
    return _WHY.get(e.errno or 0, e.strerror or str(e))


@contextlib.contextmanager
def output_errors(where: Path | str, *, config_path: bool = False) -> Iterator[None]:
    """Turn an OSError raised while writing outputs under `where` into one clear line.

    `config_path`: the folder is the config's output path (output.dir, --out), so a folder that
    cannot be created there is a usage error (exit 2); anything else is exit 3.
    """
    try:
        yield
    except OSError as e:
        name = e.filename or where
        msg = (
            f"{name}: cannot write the output ({describe_oserror(e)}); nothing complete was "
            "left behind. Free space or choose a writable folder (--out), then run again."
        )
        if config_path:
            raise ConfigError(msg) from None
        raise InputError(msg) from None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write `data` to `path` through a temporary file and a rename (never a half-written file)."""
    path = Path(path)
    raw = data.encode(encoding) if isinstance(data, str) else data
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        with open(tmp, "xb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)
    return path


def staging_path(target: Path) -> Path:
    return target.parent / f".{target.name}.new"


def old_path(target: Path) -> Path:
    return target.parent / f".{target.name}.old"


def link_into(src: Path, dst: Path) -> None:
    """Put an existing file into a folder being built: a hard link (no copy, no change to the
    original), or a copy where links cannot be made (another file system)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        dst.hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


def new_staging_dir(target: Path) -> Path:
    """An empty staging folder for `target` (an earlier, abandoned one is removed)."""
    staging = staging_path(target)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def commit_dir(staging: Path, target: Path) -> None:
    """Put the complete folder `staging` in place of `target` (which may exist, or be empty).

    The old folder is renamed aside first and removed last; `recover_dir` repairs a swap that
    was interrupted between the two renames.
    """
    _fsync_tree(staging)
    old = old_path(target)
    if old.exists():
        shutil.rmtree(old)
    if target.is_dir() and any(target.iterdir()):
        os.rename(target, old)
    elif target.is_dir():
        target.rmdir()  # an empty reservation (exclusive mkdir of a run id)
    os.rename(staging, target)
    fsync_dir(target.parent)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def recover_dir(target: Path, complete: Callable[[Path], bool]) -> str | None:
    """Finish or roll back an interrupted `commit_dir` of `target`; say what was done.

    `complete(folder)` tells whether a staged folder got its completion marker. Afterwards
    `target` is the newest complete folder (or absent if there never was one) and no staging or
    old folder is left.
    """
    staging, old = staging_path(target), old_path(target)
    done = None
    if old.exists() and not target.exists():
        if staging.is_dir() and complete(staging):
            os.rename(staging, target)
            done = "finished the interrupted write"
        else:
            os.rename(old, target)
            done = "rolled back the interrupted write"
    if old.exists():
        shutil.rmtree(old)
        done = done or "removed the replaced folder"
    if staging.exists():
        if not target.exists() and staging.is_dir() and complete(staging):
            os.rename(staging, target)
            done = "finished the interrupted write"
        else:
            shutil.rmtree(staging)
            done = done or "removed an unfinished write"
    if done:
        fsync_dir(target.parent)
    return done


# --- owner locks and the sweep of what killed processes left ------------------------------

_HELD: dict[str, list[int]] = {}  # lock path -> [fd, depth, pid]: re-entrant within a process


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _take(lock: Path, *, block: bool) -> int | None:
    """An fd holding the exclusive flock of `lock`, or None when another process holds it.

    A sweeper unlinks a lock file once it is done; whoever opened the old file before that
    would hold a lock on a name that no longer exists, so the lock counts only if the name
    still points to the locked file (else: open again).
    """
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        mine = os.fstat(fd)
        try:
            now = os.stat(lock)
        except FileNotFoundError:
            now = None
        if now is not None and (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # for a person looking; not trusted
            return fd
        os.close(fd)


def _release(lock: Path, fd: int) -> None:
    with contextlib.suppress(OSError):
        lock.unlink()  # before closing: nobody can take a lock on a name we are removing
    os.close(fd)


@contextlib.contextmanager
def owning(target: Path) -> Iterator[None]:
    """Hold the owner lock of `target` (its staging, old and reserved folders) for the block.

    Re-entrant within one process (a run that reserved its folder then writes it); a second
    process owning the same target waits for the first.
    """
    lock = lock_path(Path(target))
    key = str(lock.absolute())
    held = _HELD.get(key)
    if held is not None and held[2] == os.getpid():
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = _take(lock, block=True)
    assert fd is not None
    _HELD[key] = [fd, 1, os.getpid()]
    try:
        yield
    finally:
        _HELD.pop(key, None)
        _release(lock, fd)


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:new|old|render|lock)$")


def sweep_stale(
    root: Path,
    complete: Callable[[Path], bool],
    *,
    reservation: re.Pattern[str] | None = None,
) -> list[str]:
    """Finish or remove what processes that died left in `root`; never touch a live one's.

    For each target with a staging (`.X.new`), replaced (`.X.old`), scratch (`.X.render`) or
    lock (`.X.lock`) entry, and each empty folder whose name matches `reservation` (a run id
    reserved by a run that never finished), the owner lock is tried: refused, a live process
    owns it and it is skipped. Taken: an interrupted swap is finished or rolled back
    (`recover_dir`; a staged folder that got its completion marker is put in place of an empty
    reservation, so a run killed after its last write is kept), scratch and staging are
    removed, an empty reservation is removed. Complete folders are never removed. Returns one
    line per target cleaned.
    """
    root = Path(root)
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return []
    names: set[str] = set()
    for e in entries:
        m = _LEFTOVER.match(e)
        if m:
            names.add(m.group("name"))
        elif reservation is not None and reservation.match(e):
            p = root / e
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink() and not any(p.iterdir()):
                    names.add(e)
    done: list[str] = []
    for name in sorted(names):
        target = root / name
        lock = lock_path(target)
        if _HELD.get(str(lock.absolute())) is not None:
            continue  # ours, in this process
        try:
            fd = _take(lock, block=False)
        except OSError:
            continue  # cannot even create a lock here: leave everything as it is
        if fd is None:
            continue  # a live process owns it
        try:
            what = _sweep_one(target, complete)
        except OSError:
            what = None
        finally:
            _release(lock, fd)
        if what:
            done.append(f"{name}: {what}")
    if done:
        fsync_dir(root)
    return done


def _sweep_one(target: Path, complete: Callable[[Path], bool]) -> str | None:
    staging = staging_path(target)
    said: list[str] = []
    empty = target.is_dir() and not target.is_symlink() and not any(target.iterdir())
    if empty and staging.is_dir() and complete(staging):
        target.rmdir()  # killed between its last write and the rename: finish it
    what = recover_dir(target, complete)
    if what:
        said.append(what)
    scratch = target.parent / f".{target.name}.render"
    if scratch.exists():
        shutil.rmtree(scratch, ignore_errors=True)
        said.append("removed an unfinished re-render")
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        target.rmdir()
        said.append("removed the empty folder of a run that never finished")
    return "; ".join(said) or None
