"""The records' provenance in memory (Arrow text) and on disk (the Parquet schema of earlier
releases), and normalize letting each raw frame go once it is typed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from audit import load_config, run
from audit.config import NormalizeConfig, SourceConfig
from audit.normalize import normalize
from audit.sources import read_sources

REAL = Path(__file__).parent / "fixtures" / "real"


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """A run over real vendor exports: HubSpot (unmapped columns go to `extra`) and a bounce."""
    ws = tmp_path_factory.mktemp("real")
    for name in ("hubspot_contacts.csv", "stripe_customers.csv", "bounce_gmail_invalid.eml"):
        shutil.copy(REAL / name, ws / name)
    (ws / "crm.yaml").write_text(
        "as_of: 2026-01-01\nsources:\n"
        "  - {name: hubspot, path: hubspot_contacts.csv}\n"
        "  - {name: stripe, path: stripe_customers.csv}\n"
        "  - {name: mail, path: bounce_gmail_invalid.eml}\n",
        encoding="utf-8",
    )
    result = run(load_config(ws / "crm.yaml"), out=ws / "out")
    assert result.run_dir is not None
    return result.run_dir, result.records


def test_records_keep_provenance_as_arrow_text_in_memory(real_run) -> None:
    _, records = real_run
    contacts = records["contacts"]
    assert contacts["record_id"].dtype == "str"
    assert contacts["extra"].dtype == "str"
    assert contacts["source"].dtype == object  # a few shared strings
    # HubSpot's unmapped columns are kept as JSON; Stripe's mapped rows have none of their own
    hub = contacts[contacts["source"] == "hubspot"]
    assert hub["extra"].notna().all()
    assert all(isinstance(json.loads(e), dict) for e in hub["extra"])


def test_records_parquet_keeps_its_schema_and_missing_values(real_run) -> None:
    run_dir, records = real_run
    for entity, frame in records.items():
        path = run_dir / "records" / f"{entity}.parquet"
        schema = pq.read_schema(path)
        meta = {c["name"]: c for c in json.loads(schema.metadata[b"pandas"])["columns"]}
        for col in ("record_id", "extra"):
            # an object column of text or None, as earlier releases wrote it (an all-empty
            # column is Parquet's null type, as pandas writes a column of None)
            assert meta[col]["numpy_type"] == "object", (entity, col)
            assert str(schema.field(col).type) in ("string", "null"), (entity, col)
        back = pd.read_parquet(path).set_index("record_id")
        mem = frame.set_index("record_id")
        assert sorted(back.index) == sorted(mem.index)
        extra = back["extra"].reindex(mem.index)
        assert extra.isna().tolist() == mem["extra"].isna().tolist()
        assert extra.dropna().tolist() == mem["extra"].dropna().tolist()


def test_normalize_lets_each_raw_frame_go_and_types_the_same(tmp_path: Path) -> None:
    for name in ("hubspot_contacts.csv", "salesforce_contacts.csv"):
        shutil.copy(REAL / name, tmp_path / name)
    sources = [
        SourceConfig(name="hubspot", path="hubspot_contacts.csv"),
        SourceConfig(name="sf", path="salesforce_contacts.csv"),
    ]
    cfg = NormalizeConfig()
    kept = read_sources(sources, base_dir=tmp_path).records
    handed = read_sources(sources, base_dir=tmp_path).records
    typed, issues = normalize(kept, cfg, sources)
    typed_released, issues_released = normalize(handed, cfg, sources, release=True)
    assert handed == {}  # every raw frame was taken
    assert set(kept) == set(typed) == {"contacts"}  # without release the input stays
    for entity, frame in typed.items():
        pd.testing.assert_frame_equal(frame, typed_released[entity])
    pd.testing.assert_frame_equal(issues, issues_released)
