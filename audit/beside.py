"""Work run in a forked process beside the caller's, on the second core.

A forked child inherits its input as it is (no copy, no pickling), does one piece of work
that shares nothing with what the caller does meanwhile, and sends back only its answer. The
run uses it twice: the KPI stage beside score and gate, and the merge review beside the run
folder's other writers (which writes its own files and sends back their paths, so the folder is
the same whichever finishes first).

The parent's pages are shared with the child until either writes them: work whose
temporaries reuse the heap's freed pages (the match stage's, `match.heap`) would copy each
page it touches again, so match makes its golden proposals on one core (measured: half of
them in a child took longer than all of them here).

What is computed is the same as in-process; only the wall time differs. Without fork (not
Linux), with one worker (`CRM_AUDIT_WORKERS=1`) or when the caller says so (small data) the
work simply runs in this process when its result is asked for; so too when the machine has
not the memory to spare (`memory_to_spare`, which the callers ask). An error in the child is
raised here as the same exception (an `InputError` stays an exit 3); a child that dies without an
answer (killed, out of memory) has its work run again here, so nothing is silently missing.
"""

from __future__ import annotations

import gc
import pickle
import signal
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

from audit.columnwise import fork_child, stop_child

T = TypeVar("T")

# From this many contacts the run's callers fork (the KPI stage beside score, the merge review
# beside the other writers): below it a fork and its page faults cost more than the overlap
# saves, and small runs (tests, notebooks) stay in one process.
FORK_MIN_ROWS = 50_000

MEMINFO = Path("/proc/meminfo")
STATUS = Path("/proc/self/status")


def memory_to_spare() -> bool:
    """Whether the machine has the memory for a forked child beside this process: the kernel's
    MemAvailable at least this process's resident size (VmRSS). Otherwise the caller runs the
    work here when its result is asked for: the same answer, one core, no second copy.

    Why that bound: the merge review child's own pages (its tables, and whatever either process
    writes after the fork) were measured at 533 MB (private) beside this process's 1.0 GB at 300k
    contacts, and about 1.3 GB (PSS) beside 3.8 GB at 1M: at most this process's size, with
    room to spare. A child that cannot get them would be killed and its work done again here.
    Where /proc is not there (not Linux), the child is started as before."""
    available = _kib(MEMINFO, "MemAvailable:")
    resident = _kib(STATUS, "VmRSS:")
    return available is None or resident is None or available >= resident


def _kib(path: Path, key: str) -> int | None:
    """A `key: N kB` line's N from a /proc file, None when there is none."""
    try:
        with path.open(encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class Beside(Generic[T]):
    """`fn(*args)` started in a forked child now; `result()` waits for it (or runs it here)."""

    def __init__(
        self, fn: Callable[..., T], *args: Any, fork: bool = True, name: str = "beside"
    ) -> None:
        self._fn, self._args = fn, args
        self._proc: Any = None
        self._conn: Connection | None = None
        if not fork:
            return
        # not a daemon: the work may start worker processes of its own (a daemon may not);
        # `result` and `cancel` always wait for it
        child = fork_child(
            _child, (fn, args, name), name=f"crm-audit-{name}", daemon=False, duplex=False
        )
        if child is not None:
            self._proc, self._conn = child

    @property
    def forked(self) -> bool:
        """Whether a child process does the work."""
        return self._proc is not None

    def result(self) -> T:
        """The work's return value; its exception raised here when it failed."""
        if self._conn is None:
            return self._fn(*self._args)
        try:
            status, payload = self._conn.recv()
        except (EOFError, OSError):  # the child died without an answer: do the work here
            status, payload = "lost", None
        finally:
            self.cancel()
        if status == "ok":
            return payload
        if status == "error":
            raise payload
        return self._fn(*self._args)

    def cancel(self) -> None:
        """Stop the child if it still runs (the caller's own work failed) and wait for it, so
        that nothing it does (files written into a folder about to be removed) outlives it."""
        stop_child(self._proc, self._conn)
        self._proc, self._conn = None, None


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...], name: str) -> None:
    gc.freeze()  # what the fork inherited is never collected here: leave its pages shared
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops this one
    try:
        reply: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as e:  # every failure goes back to the parent, which raises it
        e.add_note(f"(in the second process: {name})\n" + traceback.format_exc())
        try:
            pickle.loads(pickle.dumps(e))
            reply = ("error", e)
        except Exception:  # one that cannot travel: its text goes back instead
            reply = ("error", RuntimeError(f"{type(e).__name__}: {e}"))
    try:
        conn.send(reply)
    finally:
        conn.close()
