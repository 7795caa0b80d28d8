"""Stable, deterministic record ids.

A record id must not change when the same export is re-downloaded with its rows in another
order, or the run history, merge logs and suppressions would point at the wrong records. So it
is built from the record's own key when it has a usable one, and from its content otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def make_record_ids(source: str, keys: Sequence[str | None], contents: Sequence[str]) -> list[str]:
    """'<source>:<key>' when every key is present and unique; else '<source>:h<content hash>'.

    `contents` is a canonical text of each row (e.g. its values joined by U+001F). Rows with the
    same content get '~2', '~3', ... in order of appearance: identical rows are interchangeable,
    so the order cannot change any output.
    """
    by_key = key_ids(source, keys)
    return by_key if by_key is not None else content_ids(source, contents)


def key_ids(source: str, keys: Sequence[object]) -> list[str] | None:
    """'<source>:<key>' for every row, or None when a key is missing or repeated (one pass)."""
    if not keys:
        return None
    seen: set[object] = set()
    add = seen.add
    for k in keys:
        if k is None or k == "" or k != k or k in seen:  # k != k: NaN
            return None
        add(k)
    return [f"{source}:{k}" for k in keys]


def content_ids(source: str, contents: Sequence[str | bytes]) -> list[str]:
    """'<source>:h<hash of the row's content>', '~n' appended to repeats.

    A content is text, or the same text's UTF-8 bytes (as Arrow holds it: no string to make).
    """
    seen: dict[str, int] = {}
    out = []
    for text in contents:
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        digest = hashlib.blake2b(data, digest_size=6).hexdigest()
        n = seen.get(digest, 0) + 1
        seen[digest] = n
        out.append(f"{source}:h{digest}" + (f"~{n}" if n > 1 else ""))
    return out
