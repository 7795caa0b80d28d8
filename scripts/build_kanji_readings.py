"""Build audit/normalize/data/kanji_name_readings.tsv from KANJIDIC2 and JMnedict.

The table holds, for each kanji allowed in Japanese given names (the jōyō and jinmeiyō kanji,
which KANJIDIC2 gives a grade), every reading a name may use: on and kun readings (kun with and
without okurigana), the nanori (readings used only in names), and the readings of one-kanji
given names in JMnedict (完 'osamu', 叡 'satoshi', which neither reading list has). Both
dictionaries are the EDRDG's (CC BY-SA 4.0); the derived table is shipped with that licence.

The source is the SQLite database of the PyPI package jamdict-data 1.5 (KANJIDIC2 and JMnedict
compiled 17 Apr 2021), used here only to build the table, not at run time:

    pip download --no-deps jamdict-data==1.5 && tar xzf jamdict_data-1.5.tar.gz
    xz -dk jamdict_data-1.5/jamdict_data/jamdict.db.xz
    python scripts/build_kanji_readings.py jamdict_data-1.5/jamdict_data/jamdict.db
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "audit/normalize/data/kanji_name_readings.tsv"
HEADER = """\
# Readings Japanese given names use, per kanji (jōyō and jinmeiyō kanji), in hiragana.
# Derived from KANJIDIC2 (on, kun and nanori readings) and JMnedict (one-kanji given names),
# (c) the Electronic Dictionary Research and Development Group, CC BY-SA 4.0,
# https://www.edrdg.org/edrdg/licence.html ; this derived file is under the same licence.
# Built by scripts/build_kanji_readings.py from jamdict-data 1.5 (dictionaries of 2021-04-17).
"""


def hira(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in s)


def main(db: str) -> None:
    con = sqlite3.connect(db)
    graded = {r[0] for r in con.execute("select literal from character where grade is not null")}
    readings: dict[str, set[str]] = {k: set() for k in graded}
    q = """select ch.literal, r.value from reading r join rm_group g on r.gid = g.id
           join character ch on g.cid = ch.id where r.r_type in ('ja_on', 'ja_kun')"""
    for lit, val in con.execute(q):
        if lit in readings:
            v = hira(val.replace("-", ""))
            readings[lit].update({v.replace(".", ""), v.split(".")[0]})
    q = "select ch.literal, n.value from nanori n join character ch on n.cid = ch.id"
    for lit, val in con.execute(q):
        if lit in readings:
            readings[lit].add(hira(val))
    q = """select distinct k.text, n.text from NEKanji k join NEKana n on n.idseq = k.idseq
           join NETranslation t on t.idseq = k.idseq join NETransType tt on tt.tid = t.id
           where tt.text in ('given', 'fem', 'masc') and length(k.text) = 1"""
    for lit, val in con.execute(q):
        if lit in readings:
            readings[lit].add(hira(val))
    lines = [
        f"{k}\t{' '.join(sorted(r for r in v if r))}\n"
        for k, v in sorted(readings.items())
        if any(v)
    ]
    OUT.write_text(HEADER + "".join(lines), encoding="utf-8")
    print(f"{len(lines)} kanji -> {OUT} ({OUT.stat().st_size:,} bytes)")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1])
