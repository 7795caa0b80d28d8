"""Every shipped pack loads; ids are stable-shaped and unique; fields exist; bad packs say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit import schema
from audit.config import RulesConfig
from audit.errors import ConfigError
from audit.packdata import rules_dirs
from audit.validate import SHIPPED_PACKS, catalogue, load_pack, load_rules
from audit.validate.kinds import KINDS
from audit.validate.rulepack import RULE_ID


def _shipped() -> list[Path]:
    repo = [d for d in rules_dirs() if d.name == "rules"][-1]
    return sorted(p for p in repo.glob("*.yaml") if not p.name.startswith(("survivorship",)))


def test_every_shipped_pack_is_in_the_catalogue() -> None:
    names = {p.stem for p in _shipped()}
    assert names == set(SHIPPED_PACKS)


@pytest.mark.parametrize("path", _shipped(), ids=lambda p: p.stem)
def test_pack_loads_and_rules_are_well_formed(path: Path) -> None:
    rules = load_pack(path)
    assert rules, "a pack without rules checks nothing"
    for r in rules:
        assert RULE_ID.match(r.id)
        assert r.id.startswith(r.entity + ".")
        assert r.entity in schema.ENTITIES
        cols = set(schema.columns(r.entity))
        if r.field is not None:
            assert r.field in cols, f"{r.id}: {r.field} is not a {r.entity} column"
        kind = KINDS.get(r.kind)
        if kind.columns is not None:
            for c in kind.columns(r):
                assert c in cols, f"{r.id}: reads {c}, not a {r.entity} column"
        assert r.message.strip()


def test_rule_ids_are_unique_across_packs() -> None:
    ids = [row["rule_id"] for row in catalogue()]
    assert len(ids) == len(set(ids))


def test_default_config_loads_every_shipped_pack() -> None:
    assert set(RulesConfig().packs) == set(SHIPPED_PACKS)
    assert len(load_rules(RulesConfig())) == len(catalogue())


def test_catalogue_rows_carry_what_the_readme_needs() -> None:
    rows = catalogue()
    need = {"rule_id", "kind", "entity", "field", "dimension", "severity", "message", "engine"}
    assert all(need <= set(r) for r in rows)
    engines = {r["engine"] for r in rows}
    assert engines == {"gx", "vectorized"}


def _write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "mine.yaml"
    p.write_text(body, encoding="utf-8")
    return p


HEAD = "pack: mine\nentity: contacts\nrules:\n"


def test_unknown_parameter_names_file_line_and_rule(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEAD + "  - id: contacts.email.fmt\n    kind: matches\n    field: email\n"
        "    patern: '^x'\n    dimension: validity\n    message: m\n",
    )
    with pytest.raises(ConfigError) as e:
        load_pack(p)
    msg = str(e.value)
    assert "mine.yaml" in msg and "line 4" in msg and "contacts.email.fmt" in msg
    assert "unknown parameter" in msg and "pattern" in msg


def test_unknown_kind_suggests_the_close_one(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEAD + "  - id: contacts.email.req\n    kind: requird\n    field: email\n"
        "    dimension: completeness\n    message: m\n",
    )
    with pytest.raises(ConfigError, match=r"requird.*Did you mean 'required'"):
        load_pack(p)


def test_bad_dimension_and_bad_id_are_reported_with_the_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEAD + "  - id: contacts.email.req\n    kind: required\n    field: email\n"
        "    dimension: prettiness\n    message: m\n",
    )
    with pytest.raises(ConfigError, match=r"line 7 \(rule contacts.email.req\).*dimension"):
        load_pack(p)
    p = _write(
        tmp_path,
        HEAD + "  - id: Email-Required\n    kind: required\n    field: email\n"
        "    dimension: completeness\n    message: m\n",
    )
    with pytest.raises(ConfigError, match=r"line 4.*<entity>.<field>.<check>"):
        load_pack(p)


def test_bad_regex_is_a_config_error(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        HEAD + "  - id: contacts.email.fmt\n    kind: matches\n    field: email\n"
        "    pattern: '(['\n    dimension: validity\n    message: m\n",
    )
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        load_pack(p)


def test_overrides_disable_severity_and_params() -> None:
    cfg = RulesConfig(
        packs=["contacts.stale"],
        disable=["contacts.email.role"],
        severity={"contacts.email.disposable": "error"},
        params={"contacts.email.inactive": {"days": 365}},
    )
    rules = {r.id: r for r in load_rules(cfg)}
    assert "contacts.email.role" not in rules
    assert rules["contacts.email.disposable"].severity == "error"
    assert rules["contacts.email.inactive"].params.days == 365


def test_overrides_of_unknown_rule_ids_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"contacts\.email\.nope"):
        load_rules(RulesConfig(packs=["contacts.stale"], disable=["contacts.email.nope"]))
    with pytest.raises(ConfigError, match="days"):
        load_rules(
            RulesConfig(packs=["contacts.stale"], params={"contacts.email.role": {"days": 3}})
        )


def test_user_pack_by_path_relative_to_base_dir(tmp_path: Path) -> None:
    _write(
        tmp_path,
        HEAD + "  - id: contacts.owner.required\n    kind: required\n    field: owner\n"
        "    dimension: completeness\n    message: Owner missing.\n",
    )
    rules = load_rules(RulesConfig(packs=["mine.yaml"]), base_dir=tmp_path)
    assert [r.id for r in rules] == ["contacts.owner.required"]
