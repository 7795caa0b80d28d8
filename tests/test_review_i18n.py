"""The merge review page's labels, its data blob and what it calls a conflict, without a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from audit.labels import _LABELS, LANGUAGES
from audit.merge import review, write_review
from tests.test_merge import demo_result

JS = Path(review.__file__).with_name("review.js").read_text(encoding="utf-8")
# placeholders only, or words that are the same in every language
SAME_IN_EVERY_LANGUAGE = {"rv_similar"}


def _used_keys() -> set[str]:
    return set(re.findall(r"\bL\.((?:rv|lvl)_\w+)", JS)) | {
        f"rv_band_{b}" for b in ("auto", "review")
    }


def test_every_label_the_page_uses_is_translated() -> None:
    used = _used_keys()
    assert len(used) > 40
    missing = sorted(k for k in used if k not in _LABELS)
    assert missing == [], f"labels.py lacks {missing}"
    for key in sorted(used | {k for k in _LABELS if k.startswith(("rv_", "lvl_"))}):
        en, *others = _LABELS[key]
        for lang, text in zip(LANGUAGES[1:], others, strict=True):
            assert text.strip(), f"{key} has no {lang} text"
            if key not in SAME_IN_EVERY_LANGUAGE:
                assert text != en, f"{key} is not translated to {lang}"
            # the same placeholders in every language, or the page shows {n}
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", en)), key


def test_python_side_labels_are_in_the_table() -> None:
    src = Path(review.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'lab\["((?:rv|lvl)_\w+)"\]', src))
    assert used and used <= set(_LABELS)


@pytest.mark.parametrize(
    ("language", "title", "confirm"),
    [
        ("en", "Merge review", "Approve {n} clusters?"),
        ("ko", "병합 검토", "클러스터 {n}개를 승인할까요?"),
        ("ja", "統合レビュー", "{n} 件のクラスターを承認しますか?"),
        ("zh", "合并审核", "批准 {n} 个聚类?"),
    ],
)
def test_page_speaks_the_configured_language(
    tmp_path: Path, language: str, title: str, confirm: str
) -> None:
    write_review(demo_result(tmp_path), tmp_path, redact=False, language=language)
    page = (tmp_path / "merge_review.html").read_text(encoding="utf-8")
    assert f'<html lang="{language}">' in page and f"<h1>{title}</h1>" in page
    data = json.loads(page.split('id="review-data">', 1)[1].split("</script>", 1)[0])
    assert data["labels"]["rv_confirm_approve"] == confirm
    reasons = [c["reason"] for c in data["clusters"]]
    assert all(reasons)
    if language != "en":  # the reason sentence too, not only the buttons
        assert not any(r.startswith("same ") for r in reasons)


def test_script_json_cannot_break_out_of_its_element() -> None:
    hostile = {"v": "</script><script>alert(1)</script><!-- & \u2028 >"}
    text = review.script_json(hostile)
    assert not re.search(r"[<>&\u2028]", text)
    assert json.loads(text) == hostile


def test_one_number_in_two_formats_is_not_a_conflict() -> None:
    recs = [
        {"phone": "+86 135 6857 7348", "email": "Guo.Lei@126.com", "full_name": "郭磊"},
        {"phone": "+8613568577348", "email": "guo.lei@126.com", "full_name": "郭 磊"},
    ]
    keys = [
        {"phone_e164": "+8613568577348", "email_key": "guo.lei@126.com", "name_key": "郭磊"},
        {"phone_e164": "+8613568577348", "email_key": "guo.lei@126.com", "name_key": "郭磊"},
    ]
    assert review.conflicts(recs, keys) == []
    # without normalized columns: a fold of case, spaces and phone punctuation still agrees
    assert review.conflicts(recs, [{}, {}]) == ["full_name"]
    recs[1]["phone"] = "+86 135 6857 7349"
    keys[1]["phone_e164"] = "+8613568577349"
    assert review.conflicts(recs, keys) == ["phone"]


def test_guards_read_columns_or_the_matchers_why() -> None:
    flagged = [
        {"guard_personal_email": True, "guard_company_phone": False, "why": "phone far (-2.0)"},
        {"guards": "namesake; shared phone", "why": ""},
    ]
    assert review.guards_of(flagged) == ["namesake", "personal_email", "shared phone"]
    plain = [{"why": "email exact (+13.6), phone far (-2.0), given nickname (+3.1)"}]
    assert review.guards_of(plain) == ["phone far"]
    ev = review.evidence(
        {"record_id_l": "a", "record_id_r": "b", "why": plain[0]["why"]},
        {"a": {"first_name": "Jonathan"}, "b": {"first_name": "Jon"}},
    )
    assert ev == {
        "same": ["email"],
        "similar": [["given", "nickname", "Jonathan", "Jon"]],
        "against": [["phone", "far"]],
    }
    lab = {k: v[0] for k, v in _LABELS.items()}
    assert review.reason(ev, lab) == (
        "same email; given nickname: Jonathan / Jon; differs: phone (different)"
    )
