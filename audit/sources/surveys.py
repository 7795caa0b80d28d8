"""Survey exports (Typeform, Google Forms, SurveyMonkey, Qualtrics) read as surveys too.

A form export is one row per response and one column per question, the question's wording as
the header. Read as contacts alone, every response is a "contact" (anonymous ones included)
and the NPS/CSAT/CES answers end up in `extra`, where no KPI sees them. So: score columns are
found by their question wording in English, Korean, Japanese and Chinese ("How likely are you
to recommend ...?" -> nps on 0-10), checked to hold numbers, and every answer becomes a
`surveys` row; the respondent stays a contact when the response carries an email, phone or
name. SurveyMonkey's second header row and Qualtrics' question-text and ImportId rows are
header, not responses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from audit.sources.decoding import fold_header
from audit.sources.readers import RawTable

# question wording -> survey type; the first that matches wins (NPS wording mentions
# "satisfied" less often than CSAT wording mentions "recommend")
_WORDING: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "nps",
        re.compile(
            r"\bnps\b|net promoter|likely .{0,60}\brecommend|likelihood .{0,20}recommend|"
            r"recommend .{0,60}\b(friend|colleague|family|others)|"
            r"추천\s?(할|하실|하시겠|의향|가능성)|"
            r"(勧め|薦め|すすめ|推薦|推奨).{0,12}(可能性|ますか|たい|思いますか)|"
            r"推荐给.{0,12}(朋友|同事|他人|家人)|推荐.{0,8}(可能性|意愿)|推薦給",
            re.IGNORECASE,
        ),
    ),
    (
        "ces",
        re.compile(
            r"\bces\b|customer effort|how easy|easy (was it|is it|it was|to|for)|effort|"
            r"쉽게|쉬웠|얼마나 쉬|簡単|容易|轻松|輕鬆",
            re.IGNORECASE,
        ),
    ),
    (
        "csat",
        re.compile(
            r"\bcsat\b|satisf|how happy|happy with|만족|満足|满意|滿意",
            re.IGNORECASE,
        ),
    ),
)
_SCALE_HINT = re.compile(r"(?<!\d)(0|1)\s*(?:-|–|—|~|〜|～|to|から|에서)\s*(5|7|10)(?!\d)")
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2}(?:[.,]\d+)?)(?!\d)")
# when the response was submitted, by export: Typeform, Google Forms, SurveyMonkey, Qualtrics
_ANSWERED_AT = (
    "Submit Date (UTC)",
    "Submitted At",
    "Timestamp",
    "타임스탬프",
    "タイムスタンプ",
    "时间戳记",
    "時間戳記",
    "RecordedDate",
    "Recorded Date",
    "End Date",
    "EndDate",
)
_RESPONSE_ID = ("#", "Response ID", "ResponseId", "Respondent ID", "Token")
_SURVEY_PROFILES = (
    "typeform.responses",
    "google_forms.responses",
    "surveymonkey.responses",
    "qualtrics.responses",
)


@dataclass(frozen=True)
class ScoreColumn:
    header: str  # column in the file
    question: str  # its wording (the header, or Qualtrics' question-text row)
    survey_type: str  # nps, csat, ces
    scale_min: int
    scale_max: int


def is_form_export(profile: str | None, header: list[str]) -> bool:
    """A survey tool's export (its rows are responses), not a CRM list with a score column.

    Only then are responses without an email, phone or name kept out of contacts: a customer
    list with a CSAT column keeps every row as a contact.
    """
    if profile is not None:
        return profile in _SURVEY_PROFILES
    folded = {fold_header(h) for h in header}
    return any(fold_header(a) in folded for a in (*_ANSWERED_AT, "Completion time", "#"))


def prepare(table: RawTable) -> dict[str, str]:
    """Take the extra header rows of SurveyMonkey and Qualtrics exports out of the data.

    Returns {column: question wording}. The rows removed are header lines, not responses, so
    they are neither records nor rejected rows; a warning says what was done.
    """
    frame = table.frame
    cols = [str(c) for c in frame.columns]
    questions = {c: c for c in cols}
    if frame.empty:
        return questions
    folded = {fold_header(c): c for c in cols}
    drop = 0
    if "startdate" in folded and ("responseid" in folded or "recordeddate" in folded):
        # Qualtrics: row 2 is the question text, row 3 the ImportId JSON (legacy: absent)
        first = frame.iloc[0]
        if _is_label_row(first, cols):
            questions = {c: first[c] if isinstance(first[c], str) else c for c in cols}
            drop = 1
            if len(frame) > 1 and _text(frame.iloc[1].iloc[0]).startswith('{"ImportId"'):
                drop = 2
        elif _text(first.iloc[0]).startswith('{"ImportId"'):
            drop = 1
        what = "Qualtrics question-text/ImportId"
    elif "respondent id" in folded and "collector id" in folded:
        # SurveyMonkey: row 2 names each column's answer option ("Response", "Other", ...)
        rid = frame.iloc[0][folded["respondent id"]]
        if not _text(rid).strip():
            drop = 1
        what = "SurveyMonkey answer-option"
    if not drop:
        return questions
    table.frame = frame.iloc[drop:].reset_index(drop=True)
    rows = table.source_row or list(range(1, len(frame) + 1))
    table.source_row = [r - drop for r in rows[drop:]]
    table.warnings.append(f"read {drop} {what} row(s) below the header as header, not responses")
    return questions


def _text(value: object) -> str:
    """A cell's text, "" where empty: a reader gives None there, Arrow text columns NaN."""
    return value if isinstance(value, str) else ""


def _is_label_row(row: pd.Series, cols: list[str]) -> bool:
    """Qualtrics' second header row repeats labels: 'Start Date' under StartDate, etc."""
    hits = 0
    for c in cols:
        v = row[c]
        if isinstance(v, str) and fold_header(v).replace(" ", "") == fold_header(c).replace(
            " ", ""
        ):
            hits += 1
    return hits >= 2


def score_columns(frame: pd.DataFrame, questions: dict[str, str]) -> list[ScoreColumn]:
    """Columns whose question wording names NPS, CSAT or CES and whose answers are numbers."""
    out = []
    for col in frame.columns:
        question = questions.get(str(col), str(col))
        text = re.sub(r"<[^>]{1,40}>", "", question)
        kind = next((k for k, rx in _WORDING if rx.search(text)), None)
        if kind is None:
            continue
        values = [v for v in frame[col].tolist() if isinstance(v, str) and v.strip()]
        nums = [_number(v) for v in values]
        good = [n for n in nums if n is not None and 0 <= n <= 10]
        if not good or len(good) < 0.8 * len(values):
            continue  # a free-text follow-up ("What would make you more satisfied?")
        lo, hi = _scale(kind, text, min(good), max(good))
        out.append(ScoreColumn(str(col), question, kind, lo, hi))
    return out


def _number(value: str) -> float | None:
    m = _LEADING_NUMBER.match(value)  # "10 - Extremely likely", "5 (Very satisfied)"
    if not m:
        return None
    return float(m.group(1).replace(",", "."))


def _scale(kind: str, text: str, lo: float, hi: float) -> tuple[int, int]:
    m = _SCALE_HINT.search(text)
    if m:
        return int(m.group(1)), int(m.group(2))
    if kind == "nps":
        return (0, 10) if hi > 5 or lo == 0 else (1, 5)
    if kind == "ces":
        return (1, 5) if hi <= 5 else (1, 7)
    top = 5 if hi <= 5 else 7 if hi <= 7 else 10
    return (0 if lo == 0 else 1), top


def survey_frame(
    raw: pd.DataFrame,
    provenance: pd.DataFrame,
    scores: list[ScoreColumn],
    email: pd.Series | None,
) -> pd.DataFrame:
    """`surveys` rows (provenance + canonical + extra): one per answered score question."""
    raw = raw.reset_index(drop=True)
    by_fold = {fold_header(str(c)): str(c) for c in reversed(list(raw.columns))}
    when = next((by_fold[fold_header(a)] for a in _ANSWERED_AT if fold_header(a) in by_fold), None)
    rid = next((by_fold[fold_header(a)] for a in _RESPONSE_ID if fold_header(a) in by_fold), None)
    parts = []
    for sc in scores:
        values = raw[sc.header]
        keep = values.map(lambda v: isinstance(v, str) and _number(v) is not None).to_numpy()
        if not keep.any():
            continue
        part = provenance.loc[keep, ["source", "source_file", "source_row"]].copy()
        ids = raw.loc[keep, rid] if rid else part["source_row"]
        suffix = f":{sc.survey_type}" if len(scores) > 1 else ""
        part["external_id"] = [f"{i}{suffix}" if isinstance(i, str) else None for i in ids.tolist()]
        part["respondent_email"] = email[keep].to_numpy() if email is not None else None
        part["survey_type"] = sc.survey_type
        part["score"] = [_fmt(_number(v)) for v in values[keep].tolist()]
        part["scale_min"] = str(sc.scale_min)
        part["scale_max"] = str(sc.scale_max)
        part["answered_at"] = raw.loc[keep, when].to_numpy() if when else None
        part["extra"] = _json_question(sc.question)
        parts.append(part)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True)


def _fmt(n: float | None) -> str | None:
    if n is None:
        return None
    return str(int(n)) if n.is_integer() else str(n)


def _json_question(question: str) -> str:
    import json

    return json.dumps({"question": question}, ensure_ascii=False)
