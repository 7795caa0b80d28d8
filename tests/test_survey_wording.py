"""Score questions are found by the wording real surveys use (collected from public survey
templates and apps in English, Korean, Japanese and Chinese), and only when answers are numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.sources.surveys import score_columns

WORDINGS = [
    # (question as found in public survey code and templates, type, scale)
    ("How likely are you to recommend us to a friend or colleague", "nps", (0, 10)),
    ("How easy did we make it to solve your problem?", "ces", (1, 7)),
    ("How happy are you with your product", "csat", (1, 5)),
    ("이 제품/서비스를 친구나 동료에게 추천할 가능성은 얼마나 됩니까?", "nps", (0, 10)),
    ("온오프 스페이스를 지인이나 동료에게 추천할 의향은 어느 정도인가요? (필수)", "nps", (0, 10)),
    ("DeskRPG를 동료에게 추천할 가능성은 얼마나 되나요?", "nps", (0, 10)),
    ("このサービスを友人や同僚に勧める可能性はどのくらいですか？", "nps", (0, 10)),
    ("この製品・サービスを友人や同僚にどの程度すすめたいですか？", "nps", (0, 10)),
    ("[サービス名]を友人や同僚にお勧めする可能性はどのくらいありますか？", "nps", (0, 10)),
    ("你有多大可能把我们推荐给朋友或同事？", "nps", (0, 10)),
    ("您有多大可能性将我们的产品推荐给朋友或同事？（0-10分）", "nps", (0, 10)),
]


@pytest.mark.parametrize(("question", "kind", "scale"), WORDINGS)
def test_real_wordings_are_found(question: str, kind: str, scale: tuple[int, int]) -> None:
    answers = {"nps": ["10", "7", "0", "9"], "ces": ["6", "7", "2", "5"], "csat": ["5", "4", "1"]}
    values = answers[kind]
    frame = pd.DataFrame({question: values, "Comment": ["ok"] * len(values)}, dtype=object)
    (col,) = score_columns(frame, {})
    assert (col.header, col.survey_type, (col.scale_min, col.scale_max)) == (question, kind, scale)


def test_a_free_text_follow_up_with_the_same_words_is_not_a_score() -> None:
    q = "このサイトを友人や同僚に薦める可能性はどのくらいありますか？その理由は何ですか？"
    frame = pd.DataFrame({q: ["使いやすいから", "特にない", None]}, dtype=object)
    assert score_columns(frame, {}) == []


def test_labelled_answers_keep_their_number() -> None:
    q = "How likely is it that you would recommend this company to a friend or colleague?"
    frame = pd.DataFrame({q: ["10 - Extremely likely", "0 - Not at all likely", "7"]}, dtype=object)
    (col,) = score_columns(frame, {})
    assert col.survey_type == "nps" and (col.scale_min, col.scale_max) == (0, 10)
