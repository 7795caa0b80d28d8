"""Opening the small SQLite files that sit beside the run folders (history, decisions store).

Both are conveniences shared by every run of a config (cron and a person at once), so both are
opened the same way: a busy timeout so concurrent writers queue instead of failing, WAL so
readers never block a writer, an integrity check on open (once per process until the file
changes), and a file that is not a usable
database (garbage, truncated, a folder in its place) moved aside with a warning instead of
failing the audit. Writes go through `transaction`: all rows of one write, or none.
"""

from __future__ import annotations

import os
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 30.0

__all__ = ["BUSY_TIMEOUT_S", "HistoryWarning", "open_checked", "transaction"]


class HistoryWarning(UserWarning):
    """The history (or the decisions store beside it) could not be used; the run went on
    without it. Defined here, beside the opener, so both stores share it without the decisions
    store importing the history."""


def open_checked(
    path: Path,
    schema: str,
    *,
    what: str,
    lost: str,
    warning: type[Warning],
    migrate: Callable[[sqlite3.Connection], None] | None = None,
    stacklevel: int = 3,
) -> sqlite3.Connection | None:
    """An open, checked database with `schema`, or None (after a warning) when unusable.

    `what` names the file in messages ("history", "decisions store"); `lost` says what the user
    goes without when a corrupt file is moved aside. The connection is in autocommit mode: use
    `transaction` for writes.
    """
    return _open(path, schema, what, lost, warning, migrate, stacklevel, retry=True)


def _open(
    path: Path,
    schema: str,
    what: str,
    lost: str,
    warning: type[Warning],
    migrate: Callable[[sqlite3.Connection], None] | None,
    stacklevel: int,
    *,
    retry: bool,
) -> sqlite3.Connection | None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise sqlite3.DatabaseError("it is a folder, not a file")
        if path.exists() and not path.is_file():
            # a device, pipe or socket (history: /dev/null): never opened, never moved aside;
            # renaming /dev/null as root would replace it with a plain file
            raise sqlite3.DatabaseError("it is a device, pipe or socket, not a file")
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        warnings.warn(f"{path}: {what} not used ({e}).", warning, stacklevel=stacklevel + 1)
        return None
    try:
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        con.execute("PRAGMA journal_mode = WAL")
        state = _state(path)
        if state is None or _CHECKED.get(path.absolute()) != state:
            ok = con.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {ok[0] if ok else 'no answer'}")
        con.executescript(schema)
        if migrate is not None:
            migrate(con)
        state = _state(path)  # as the schema left it
        if state is not None:
            _CHECKED[path.absolute()] = state
        return con
    except sqlite3.OperationalError as e:
        con.close()
        if "locked" in str(e) or "busy" in str(e):
            warnings.warn(
                f"{path}: {what} busy, not used ({e}).", warning, stacklevel=stacklevel + 1
            )
            return None
        if "readonly" in str(e) or "read-only" in str(e) or "unable to open" in str(e):
            warnings.warn(f"{path}: {what} not used ({e}).", warning, stacklevel=stacklevel + 1)
            return None
        why: sqlite3.Error = e
    except sqlite3.DatabaseError as e:
        con.close()
        why = e
    aside = path.with_name(f"{path.name}.corrupt-{os.getpid()}")
    try:
        if not path.is_file():  # changed under us into something that is not ours to move
            raise OSError("it is no longer a plain file")
        os.replace(path, aside)
        for tail in ("-wal", "-shm"):
            side = path.with_name(path.name + tail)
            if side.exists():
                os.replace(side, aside.with_name(aside.name + tail))
    except OSError as e:
        warnings.warn(
            f"{path}: {what} unreadable ({why}) and could not be moved aside ({e}); not used.",
            warning,
            stacklevel=stacklevel + 1,
        )
        return None
    warnings.warn(
        f"{path}: {what} unreadable ({why}); moved aside to {aside.name}, a new one starts"
        + (f" ({lost})." if lost else "."),
        warning,
        stacklevel=stacklevel + 1,
    )
    if not retry:  # pragma: no cover - a fresh file that is corrupt at once: give up
        return None
    return _open(path, schema, what, lost, warning, migrate, stacklevel, retry=False)


# The files this process has checked, with their state then (`_state`). quick_check reads
# every page (about 0.3 s per 100 MB; a decisions store that keeps 20 runs of 1M contacts is
# gigabytes) and a run opens each file several times: a file is checked again only once it
# changed on disk (replaced, truncated, written by another process, checkpointed), not at each
# open by the same run.
_CHECKED: dict[Path, tuple[int, ...]] = {}


def _state(path: Path) -> tuple[int, ...] | None:
    """What changes when a database file is replaced or written: its inode, size and times."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write: BEGIN IMMEDIATE (takes the write lock up front, waiting up to the busy
    timeout, so a read-then-write never races another writer), COMMIT, or ROLLBACK on error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
