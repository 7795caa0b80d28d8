"""The message catalogue: complete in ko/ja/zh, no unused key, and its English is the code's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import audit
from audit import messages
from audit.config import RulesConfig
from audit.messages import (
    LANGUAGES,
    catalogue,
    localize,
    localize_finding,
    localize_suggestion,
    msg,
)
from audit.validate.rulepack import load_rules

PKG = Path(audit.__file__).parent
SOURCE = "\n".join(
    p.read_text(encoding="utf-8") for p in sorted(PKG.rglob("*.py")) if p.name != "messages.py"
)
SOURCE = re.sub(r'"\s*\n\s*f?"', "", SOURCE)  # "a " "b" split over lines reads as "a b"
# entries that are the same word in every language on purpose (placeholders or codes only)
SAME_IN_EVERY_LANGUAGE = {"changes.score_move", "impact.value"}


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)", text))


def _english_forms(entry: tuple) -> tuple[str, ...]:
    return entry[0] if isinstance(entry[0], tuple) else (entry[0],)


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_every_key_is_translated_with_the_same_placeholders(key: str) -> None:
    entry = catalogue()[key]
    forms = _english_forms(entry)
    want = set().union(*(_placeholders(f) for f in forms))
    assert all(_placeholders(f) == want for f in forms), f"{key}: plural forms differ"
    for lang, text in zip(LANGUAGES[1:], entry[1:], strict=True):
        assert text.strip(), f"{key} has no {lang} text"
        if key not in SAME_IN_EVERY_LANGUAGE and not key.startswith("entity."):
            assert text not in forms, f"{key} is not translated to {lang}"
        assert _placeholders(text) == want, f"{key}: {lang} placeholders differ from English"
    if key.startswith("entity."):  # English keeps the entity id; the others translate it
        assert all(t != forms[0] for t in entry[1:]), key


def _longest_literal(template: str) -> str:
    return max(re.split(r"\{\w+\}", template), key=len)


def test_no_key_is_unused() -> None:
    """A key is used when the code names it, or (sentences read back from stored English)
    when the code still writes its English text; families are checked against their registry."""
    from audit.kpis.catalogue import KPIS
    from audit.schema import ENTITIES

    unused = []
    for key, entry in catalogue().items():
        family, _, rest = key.partition(".")
        if family == "kpi":
            ok = rest in KPIS
        elif family == "entity":
            ok = rest in ENTITIES
        elif family in ("dim", "band"):
            ok = True  # the report labels are built from them (labels.py)
        elif family in ("looks", "finding", "suggestion"):
            ok = f'"{rest}"' in SOURCE
        else:
            ok = f'"{key}"' in SOURCE
        if not ok:
            # read back only: the code must still write this English
            ok = all(_longest_literal(f).strip() in SOURCE for f in _english_forms(entry))
        if not ok:
            unused.append(key)
    assert unused == []


def test_every_kpi_title_is_in_the_catalogue() -> None:
    from audit.kpis.catalogue import KPIS

    for kpi_id, spec in KPIS.items():
        key = f"kpi.{kpi_id}"
        assert key in catalogue(), f"{kpi_id}: add its title to audit/messages.py"
        assert catalogue()[key][0] == spec.title, f"{key}: English differs from the KPI's title"


def test_code_findings_say_what_the_catalogue_says() -> None:
    """Findings are translated from their English: the code's templates are the catalogue's."""
    from audit.normalize import _PHONE_RULES, _TYPED

    for rule_id, message, suggestion in [*_TYPED.values(), *_PHONE_RULES.values()]:
        assert catalogue()[f"finding.{rule_id}"][0] == message, rule_id
        assert catalogue()[f"suggestion.{rule_id}"][0] == suggestion, rule_id


def test_every_shipped_rule_is_translated() -> None:
    rules = load_rules(RulesConfig())
    missing = [r.id for r in rules if {k for k, _ in r.translations} != {"ko", "ja", "zh"}]
    assert missing == [], "rules without ko/ja/zh messages beside them"
    missing = [
        r.id
        for r in rules
        if r.suggestion and {k for k, _ in r.suggestion_translations} != {"ko", "ja", "zh"}
    ]
    assert missing == [], "rules without ko/ja/zh suggestions beside them"
    for r in rules:
        for lang, text in r.translations:
            assert text != r.message, f"{r.id} is not translated to {lang}"
        for lang, text in r.suggestion_translations:
            assert text != r.suggestion, f"{r.id}'s suggestion is not translated to {lang}"


def _sample(name: str) -> str:
    samples = {"entity": "contacts", "dim": "validity", "band": "auto", "n": "3"}
    if name in samples:
        return samples[name]
    pattern = messages._PATTERNS.get(name)
    if pattern == messages._COUNT:
        return "1,234"
    if pattern == messages._NUMBER:
        return "46.2%"
    if pattern == messages._ID:
        return "contacts.email.valid"
    return "Ω"  # free text: anything, even in another script


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_a_stored_english_sentence_reads_back_into_each_language(language: str) -> None:
    """Every sentence the code writes in English comes out in the target language."""
    bad = []
    for key, entry in catalogue().items():
        if key in SAME_IN_EVERY_LANGUAGE or key.split(".")[0] in (
            "kpi",
            "entity",
            "dim",
            "band",
            "looks",
            "term",
        ):
            continue  # words and labels, not stored sentences
        for form in _english_forms(entry):
            params = {p: _sample(p) for p in _placeholders(form)}
            english = form.format_map(params)
            if key.startswith("finding."):
                got = localize_finding(key[len("finding.") :], english, language)
            elif key.startswith("suggestion."):
                got = localize_suggestion(key[len("suggestion.") :], english, language)
            else:
                got = localize(english, language)
            if got == english or ("Ω" not in got and "Ω" in english):
                bad.append((key, english, got))
    assert bad == []


def test_plurals_and_numbers() -> None:
    assert msg("gate.await_merge", n=1).startswith("1 duplicate contact record awaits")
    assert msg("gate.await_merge", n=1234).startswith("1,234 duplicate contact records await")
    assert msg("gate.await_merge", "ko", n=1234).startswith("중복 연락처 레코드 1,234건")
    assert msg("gate.await_merge", "ja", n=2) == (
        "重複した連絡先レコード 2 件が統合の判断待ちです (crm-audit merge apply)"
    )
    # an unknown language speaks English rather than failing
    assert msg("gate.await_merge", "fr", n=2) == msg("gate.await_merge", n=2)


def test_unknown_text_and_data_stay_as_they_are() -> None:
    assert localize("Acme Robotics Inc moved offices", "ko") == "Acme Robotics Inc moved offices"
    # a rule template reads its {value} back whatever it holds, and keeps it untouched
    texts = {"x.y.z": {"en": "'{value}' is bad.", "ko": "'{value}' 은(는) 잘못되었습니다."}}
    assert localize_finding("x.y.z", "'it's; a, trap' is bad.", "ko", texts) == (
        "'it's; a, trap' 은(는) 잘못되었습니다."
    )
    assert localize_finding("x.y.z", "something else", "ko", texts) == "something else"
