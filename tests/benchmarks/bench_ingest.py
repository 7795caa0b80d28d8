"""Ingest throughput: a 1M-row contacts CSV and a 100k-row xlsx (use --quick for 10x smaller).

.venv/bin/python tests/benchmarks/bench_ingest.py [--quick]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from audit.config import SourceConfig
from audit.sources import read_sources


def _rows(n: int):
    names = ["김민준", "佐藤 花子", "王伟", "Jane Doe", "이서연", "髙橋 一郎"]
    for i in range(n):
        yield (
            f"C{i:07d}",
            names[i % 6],
            f"user{i}@example.com",
            f"010-{i % 10000:04d}-{(i * 7) % 10000:04d}",
            f"Company {i % 997}",
            f"{(i * 31) % 100000:05d}",
            "2024-03-05",
        )


HEADER = ("id", "name", "email", "phone", "company", "postal_code", "created")


def main() -> None:
    quick = "--quick" in sys.argv
    n_csv, n_xlsx = (100_000, 10_000) if quick else (1_000_000, 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        with (d / "contacts.csv").open("w", encoding="utf-8", newline="") as fh:
            fh.write(",".join(HEADER) + "\r\n")
            fh.writelines(",".join(r) + "\r\n" for r in _rows(n_csv))
        t0 = time.perf_counter()
        ing = read_sources([SourceConfig(name="c", path="contacts.csv")], base_dir=d)
        dt = time.perf_counter() - t0
        assert len(ing.records["contacts"]) == n_csv
        size = (d / "contacts.csv").stat().st_size >> 20
        print(f"csv:  {n_csv:,} rows ({size} MiB) in {dt:.2f} s = {n_csv / dt:,.0f} rows/s")

        from openpyxl import Workbook
        from python_calamine import CalamineWorkbook  # noqa: F401  (reader dependency)

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("contacts")
        ws.append(list(HEADER))
        for r in _rows(n_xlsx):
            ws.append(list(r))
        wb.save(d / "contacts.xlsx")
        t0 = time.perf_counter()
        ing = read_sources([SourceConfig(name="x", path="contacts.xlsx")], base_dir=d)
        dt = time.perf_counter() - t0
        assert len(ing.records["contacts"]) == n_xlsx
        print(f"xlsx: {n_xlsx:,} rows in {dt:.2f} s = {n_xlsx / dt:,.0f} rows/s")

        # a HubSpot all-properties export: 205 columns, mostly empty custom properties
        head = ["Record ID", "First Name", "Last Name", "Email", "Contact owner"]
        head += [f"Prop {i}" for i in range(200)]
        with (d / "hubspot.csv").open("w", encoding="utf-8") as fh:
            fh.write(",".join(f'"{h}"' for h in head) + "\n")
            for i in range(n_xlsx):
                props = ["v" if (i * 7 + j) % 20 == 0 else "" for j in range(200)]
                row = [str(i), "민준", "김", f"u{i}@example.kr", "Lee", *props]
                fh.write(",".join(f'"{v}"' for v in row) + "\n")
        t0 = time.perf_counter()
        ing = read_sources([SourceConfig(name="h", path="hubspot.csv")], base_dir=d)
        dt = time.perf_counter() - t0
        assert ing.files.iloc[0]["profile"] == "hubspot.contacts"
        print(f"wide: {n_xlsx:,} rows x {len(head)} columns in {dt:.2f} s")

        n_mail = n_xlsx // 5
        with (d / "inbox.mbox").open("w", encoding="utf-8") as fh:
            for i in range(n_mail):
                fh.write(
                    "From x@example.com Mon Mar  4 10:00:00 2024\n"
                    f"From: 김민준{i % 500} <u{i % 500}@example.kr>\nTo: me@example.com\n"
                    "Delivered-To: me@example.com\n"
                    f"Date: Mon, 04 Mar 2024 10:{i % 60:02d}:00 +0900\n"
                    f"Subject: hello {i}\nMessage-ID: <m{i}@example.kr>\n\n" + "body\n" * 20 + "\n"
                )
        t0 = time.perf_counter()
        ing = read_sources([SourceConfig(name="m", path="inbox.mbox")], base_dir=d)
        dt = time.perf_counter() - t0
        assert len(ing.records["activities"]) == n_mail
        print(f"mbox: {n_mail:,} messages in {dt:.2f} s = {n_mail / dt:,.0f} messages/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
