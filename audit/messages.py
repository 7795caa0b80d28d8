"""The message catalogue: every sentence a person reads, by key, in en, ko, ja and zh.

Labels (headings, buttons) live in `audit/labels.py`; this module holds sentences with
parameters. Code writes `msg("gate.overall", score=..., threshold=...)`, never a sentence glued
from pieces, so a translation can put the parameters where its grammar wants them. English is
the source: a key missing in another language falls back to it, and tests/test_messages.py fails
on any untranslated or unused key.

Stages keep writing English (run.json, issues.csv's `message` column and the gate's reasons
are what users and scripts grep), and the report layer translates a stored English sentence
with `localize`: the sentence is matched against the English templates, its parameters are
taken back out and put into the target language's template. Because the English was rendered
from the same template, the match is exact; a sentence no template matches stays English.
Rule pack findings are translated the same way from the translations written beside each rule
(`message: {en: ..., ko: ...}` in rules/*.yaml), so a new rule is still added in one place.

Counts: English has one/other forms (a pair of templates, chosen by the parameter `n`);
Korean, Japanese and Chinese have no grammatical plural and use one template with a counter
word. Numbers are written with thousands separators, which is the usual way in all four.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

LANGUAGES = ("en", "ko", "ja", "zh")

Text = str | tuple[str, str]  # one template, or English (one, other)

# key: (en, ko, ja, zh)
_MESSAGES: dict[str, tuple[Text, str, str, str]] = {
    # --- entities (as a count noun in sentences) -------------------------------------------
    "entity.contacts": ("contacts", "연락처", "連絡先", "联系人"),
    "entity.companies": ("companies", "회사", "会社", "公司"),
    "entity.deals": ("deals", "거래", "商談", "商机"),
    "entity.deal_stages": ("deal_stages", "거래 단계", "商談ステージ", "商机阶段"),
    "entity.subscriptions": ("subscriptions", "구독", "サブスクリプション", "订阅"),
    "entity.orders": ("orders", "주문", "注文", "订单"),
    "entity.tickets": ("tickets", "티켓", "チケット", "工单"),
    "entity.surveys": ("surveys", "설문 응답", "アンケート回答", "问卷答复"),
    "entity.spend": ("spend", "지출 행", "支出行", "支出记录"),
    "entity.quotas": ("quotas", "할당량", "ノルマ", "配额"),
    "entity.activities": ("activities", "활동", "活動", "活动"),
    "entity.email_events": ("email_events", "이메일 이벤트", "メールイベント", "邮件事件"),
    # --- dimensions and match bands (also the labels of the reports) -----------------------
    "dim.completeness": ("completeness", "완전성", "完全性", "完整性"),
    "dim.validity": ("validity", "유효성", "妥当性", "有效性"),
    "dim.uniqueness": ("uniqueness", "유일성", "一意性", "唯一性"),
    "dim.freshness": ("freshness", "최신성", "鮮度", "时效性"),
    "dim.consistency": ("consistency", "일관성", "一貫性", "一致性"),
    "dim.integrity": ("integrity", "무결성", "整合性", "完整约束"),
    "dim.overall": ("overall", "전체", "総合", "总体"),
    "band.auto": ("auto", "자동", "自動", "自动"),
    "band.review": ("review", "검토", "要確認", "待审核"),
    # --- the gate: reasons, warnings, withheld KPIs, quick wins (audit/gate.py) -------------
    "gate.no_records": (
        "no records were read: empty inputs never pass (check the sources)",
        "읽은 레코드가 없습니다. 빈 입력은 통과할 수 없습니다 (소스를 확인하세요)",
        "レコードが1件も読み込まれていません。空の入力は合格しません (ソースを確認してください)",
        "未读取到任何记录：空输入不能通过 (请检查数据源)",
    ),
    "gate.nothing_measurable": (
        "nothing measurable: no rule of the rule packs checks the records read ({entities}); "
        "every dimension is n/a, and the gate does not pass without evidence",
        "측정할 수 있는 것이 없습니다. 규칙 팩의 어떤 규칙도 읽은 레코드({entities})를 검사하지 "
        "않아 모든 차원이 n/a이며, 근거 없이는 게이트를 통과하지 않습니다",
        "測定できるものがありません。ルールパックのどのルールも読み込んだレコード ({entities}) を"
        "検査しないため全ディメンションが n/a で、根拠なしにゲートは合格しません",
        "无可测量内容：规则包中没有任何规则检查已读取的记录 ({entities})；所有维度均为 n/a，"
        "没有依据时门禁不会通过",
    ),
    "gate.no_rule_ran": (
        "no rule of the rule packs ran on the records read ({entities}): only the findings of "
        "reading and normalizing were scored, which is no evidence to pass on",
        "규칙 팩의 어떤 규칙도 읽은 레코드({entities})에 실행되지 않았습니다. 읽기와 정규화 "
        "단계의 결과만 점수에 반영되었으며, 이는 통과의 근거가 되지 않습니다",
        "ルールパックのどのルールも読み込んだレコード ({entities}) に対して実行されませんでした。"
        "読み込みと正規化の結果だけが採点されており、合格の根拠にはなりません",
        "规则包中没有任何规则在已读取的记录 ({entities}) 上运行：只对读取和规范化的结果评分，"
        "不足以作为通过的依据",
    ),
    "gate.count_of": ("{n} {entity}", "{entity} {n}건", "{entity} {n} 件", "{entity} {n} 条"),
    "gate.errored": (
        "check {rule} errored: its result is unknown, so it fails",
        "검사 {rule} 에서 오류가 발생했습니다. 결과를 알 수 없으므로 실패로 처리합니다",
        "チェック {rule} でエラーが発生しました。結果が不明なため不合格とします",
        "检查 {rule} 出错：结果未知，因此判为未通过",
    ),
    "gate.overall": (
        "overall {score} < {threshold} (thresholds.overall)",
        "전체 점수 {score} < 기준 {threshold} (thresholds.overall)",
        "総合スコア {score} < 基準 {threshold} (thresholds.overall)",
        "总体得分 {score} < 阈值 {threshold} (thresholds.overall)",
    ),
    "gate.floor": (
        "{name} {score} < floor {floor} (thresholds.dimensions.{key}): {detail}; see {where}",
        "{name} {score} < 하한 {floor} (thresholds.dimensions.{key}): {detail}. {where} 참조",
        "{name} {score} < 下限 {floor} (thresholds.dimensions.{key}): {detail}。{where} を参照",
        "{name} {score} < 下限 {floor} (thresholds.dimensions.{key})：{detail}；见 {where}",
    ),
    "gate.dim_of": (
        "{dim} of {entity}",
        "{entity}의 {dim}",
        "{entity}の{dim}",
        "{entity}的{dim}",
    ),
    "gate.rows_fail": (
        "{n_failed} of {n_checked} {entity} fail",
        "{entity} {n_checked}건 중 {n_failed}건 실패",
        "{entity} {n_checked} 件中 {n_failed} 件が不合格",
        "{entity} {n_checked} 条中 {n_failed} 条未通过",
    ),
    "gate.have_no": (
        "{n} {entity} have no {field}",
        "{entity} {n}건에 {field} 값이 없음",
        "{entity} {n} 件に {field} がない",
        "{entity} {n} 条缺少 {field}",
    ),
    "gate.extra_copies": (
        "{n} {entity} are extra copies in duplicate clusters",
        "{entity} {n}건이 중복 클러스터의 추가 사본",
        "{entity} {n} 件が重複クラスター内の余分なコピー",
        "{entity} {n} 条是重复聚类中的多余副本",
    ),
    "gate.fail_rule": (
        "{n} {entity} fail {rule}",
        "{entity} {n}건이 {rule} 위반",
        "{entity} {n} 件が {rule} に不合格",
        "{entity} {n} 条未通过 {rule}",
    ),
    "gate.more_rules": (
        ("{n} more rule", "{n} more rules"),
        "그 밖의 규칙 {n}개",
        "ほか {n} ルール",
        "另有 {n} 条规则",
    ),
    "gate.see_both": (
        "{a} and {b}",
        "{a} 및 {b}",
        "{a} と {b}",
        "{a} 和 {b}",
    ),
    "gate.rule_did_not_run": (
        "{rule} did not run, but thresholds.rules requires {share}",
        "{rule} 이(가) 실행되지 않았지만 thresholds.rules 는 {share} 이상을 요구합니다",
        "{rule} は実行されませんでしたが、thresholds.rules は {share} 以上を求めています",
        "{rule} 未运行，但 thresholds.rules 要求达到 {share}",
    ),
    "gate.pass_rate": (
        (
            "{rule} pass rate {rate} < {share} ({n} row fails)",
            "{rule} pass rate {rate} < {share} ({n} rows fail)",
        ),
        "{rule} 통과율 {rate} < {share} (실패 {n}행)",
        "{rule} の合格率 {rate} < {share} (不合格 {n} 行)",
        "{rule} 通过率 {rate} < {share} ({n} 行未通过)",
    ),
    "gate.required_column": (
        "required column {column} is missing from the data ({rule} could not run)",
        "필수 열 {column} 이(가) 데이터에 없습니다 ({rule} 을(를) 실행할 수 없음)",
        "必須の列 {column} がデータにありません ({rule} を実行できません)",
        "数据中缺少必需列 {column} ({rule} 无法运行)",
    ),
    "gate.and_more": (" and {n} more", " 외 {n}개", " ほか {n} 件", " 等另外 {n} 条"),
    "gate.skipped_rules": (
        (
            "{n} rule could not check its column (missing in the data): {rules}",
            "{n} rules could not check their column (missing in the data): {rules}",
        ),
        "규칙 {n}개가 검사할 열이 데이터에 없어 검사하지 못했습니다: {rules}",
        "{n} 件のルールが、対象の列がデータにないため検査できませんでした: {rules}",
        "{n} 条规则因数据中缺少对应列而无法检查：{rules}",
    ),
    "gate.await_merge": (
        (
            "{n} duplicate contact record awaits a merge decision (crm-audit merge apply)",
            "{n} duplicate contact records await a merge decision (crm-audit merge apply)",
        ),
        "중복 연락처 레코드 {n}건이 병합 결정을 기다리고 있습니다 (crm-audit merge apply)",
        "重複した連絡先レコード {n} 件が統合の判断待ちです (crm-audit merge apply)",
        "{n} 条重复联系人记录等待合并决定 (crm-audit merge apply)",
    ),
    "gate.withheld": (
        "{kpi} withheld: {why}",
        "{kpi} 보류: {why}",
        "{kpi} は保留: {why}",
        "{kpi} 暂不发布：{why}",
    ),
    "gate.strict": (
        "strict: {warning}",
        "엄격 모드: {warning}",
        "厳格モード: {warning}",
        "严格模式：{warning}",
    ),
    "gate.input_missing": (
        ("{column} is missing (no value in {n} row)", "{column} is missing (no value in {n} rows)"),
        "{column} 값이 없습니다 ({n}행 모두 비어 있음)",
        "{column} がありません ({n} 行すべてが空)",
        "缺少 {column} ({n} 行均无值)",
    ),
    "gate.input_completeness": (
        "{column} completeness {value} < {threshold}",
        "{column} 완전성 {value} < {threshold}",
        "{column} の完全性 {value} < {threshold}",
        "{column} 完整性 {value} < {threshold}",
    ),
    "gate.input_validity": (
        "{column} validity {value} < {threshold}",
        "{column} 유효성 {value} < {threshold}",
        "{column} の妥当性 {value} < {threshold}",
        "{column} 有效性 {value} < {threshold}",
    ),
    "gate.quick_win": (
        ("fix {n} {rule} failure: +{points} points", "fix {n} {rule} failures: +{points} points"),
        "{rule} 위반 {n}건 수정: +{points}점",
        "{rule} の不合格 {n} 件を修正: +{points} ポイント",
        "修复 {n} 条 {rule} 问题：+{points} 分",
    ),
    # --- what to do next (audit/next_steps.py) --------------------------------------------
    "next.pending": (
        (
            "{n} duplicate record in {clusters} clusters awaits a merge decision: open {file}",
            "{n} duplicate records in {clusters} clusters await a merge decision: open {file}",
        ),
        "클러스터 {clusters}개의 중복 레코드 {n}건이 병합 결정을 기다립니다: {file} 을(를) 여세요",
        "{clusters} クラスターの重複レコード {n} 件が統合の判断待ちです: {file} を開いてください",
        "{clusters} 个聚类中的 {n} 条重复记录等待合并决定：请打开 {file}",
    ),
    "next.approved": (
        (
            "{n} cluster arrives approved from earlier decisions: {command}",
            "{n} clusters arrive approved from earlier decisions: {command}",
        ),
        "클러스터 {n}개가 이전 결정에 따라 이미 승인되었습니다: {command}",
        "{n} クラスターは以前の判断により承認済みです: {command}",
        "{n} 个聚类已根据之前的决定批准：{command}",
    ),
    "next.quick_win": (
        "quick win: {win}",
        "빠른 개선: {win}",
        "すぐできる改善: {win}",
        "快速改进：{win}",
    ),
    "next.withheld": (
        (
            "{n} KPI withheld until its inputs are good enough: {kpis} (reasons under gate)",
            "{n} KPIs withheld until their inputs are good enough: {kpis} (reasons under gate)",
        ),
        "입력 데이터가 충분히 좋아질 때까지 KPI {n}개 보류: {kpis} (사유는 게이트 항목 참조)",
        "入力データが十分になるまで KPI {n} 件を保留: {kpis} (理由はゲートの項を参照)",
        "在输入数据达标前暂不发布 {n} 个 KPI：{kpis} (原因见门禁部分)",
    ),
    # --- the change report (audit/changes.py) ----------------------------------------------
    "changes.scores": ("scores: {moves}", "점수: {moves}", "スコア: {moves}", "得分：{moves}"),
    "changes.score_move": (
        "{dim} {before} → {after}",
        "{dim} {before} → {after}",
        "{dim} {before} → {after}",
        "{dim} {before} → {after}",
    ),
    "changes.score_move_delta": (
        "{dim} {before} → {after} ({delta} pts)",
        "{dim} {before} → {after} ({delta}점)",
        "{dim} {before} → {after} ({delta} ポイント)",
        "{dim} {before} → {after} ({delta} 个百分点)",
    ),
    "changes.unchanged": (
        "scores: unchanged",
        "점수: 변화 없음",
        "スコア: 変化なし",
        "得分：无变化",
    ),
    "changes.findings": (
        "findings: {new} new, {resolved} resolved",
        "발견 사항: 신규 {new}건, 해결 {resolved}건",
        "検出結果: 新規 {new} 件、解消 {resolved} 件",
        "发现的问题：新增 {new} 条，已解决 {resolved} 条",
    ),
    "changes.rule": (
        "{rule}: +{new} new, -{resolved} resolved",
        "{rule}: 신규 +{new}, 해결 -{resolved}",
        "{rule}: 新規 +{new}、解消 -{resolved}",
        "{rule}：新增 +{new}，已解决 -{resolved}",
    ),
    "changes.clusters": (
        "duplicate clusters: {before} → {after} ({new} new, {grown} grown, {shrunk} shrunk, "
        "{changed} changed, {split} split, {resolved} resolved, {unchanged} unchanged)",
        "중복 클러스터: {before} → {after} (신규 {new}, 확대 {grown}, 축소 {shrunk}, 변경 "
        "{changed}, 분리 {split}, 해소 {resolved}, 변화 없음 {unchanged})",
        "重複クラスター: {before} → {after} (新規 {new}、拡大 {grown}、縮小 {shrunk}、変更 "
        "{changed}、分割 {split}、解消 {resolved}、変化なし {unchanged})",
        "重复聚类：{before} → {after} (新增 {new}，扩大 {grown}，缩小 {shrunk}，变更 "
        "{changed}，拆分 {split}，已解决 {resolved}，未变 {unchanged})",
    ),
    "changes.kpi": (
        "kpi {kpi}: {before} → {after}",
        "KPI {kpi}: {before} → {after}",
        "KPI {kpi}: {before} → {after}",
        "KPI {kpi}：{before} → {after}",
    ),
    "changes.more_kpis": (
        (
            "... {n} more KPI changed (run.json: changes.kpis)",
            "... {n} more KPIs changed (run.json: changes.kpis)",
        ),
        "... 그 밖에 KPI {n}개 변경 (run.json: changes.kpis)",
        "... ほかに KPI {n} 件が変化 (run.json: changes.kpis)",
        "... 另有 {n} 个 KPI 变化 (run.json: changes.kpis)",
    ),
    # --- what reviewers' decisions taught (audit/review_store.py) -------------------------
    "learn.from": (
        ("from your {n} decided pair: {bands}", "from your {n} decided pairs: {bands}"),
        "결정된 쌍 {n}개 기준: {bands}",
        "判断済みの {n} ペアから: {bands}",
        "根据您已决定的 {n} 个记录对：{bands}",
    ),
    "learn.band": (
        "{band} band precision {precision} ({approved} approved, {rejected} rejected)",
        "{band} 구간 정밀도 {precision} (승인 {approved}, 거부 {rejected})",
        "{band} 区分の適合率 {precision} (承認 {approved}、却下 {rejected})",
        "{band} 区间精确率 {precision} (批准 {approved}，拒绝 {rejected})",
    ),
    "learn.band_few": (
        "{band} band precision {precision} ({approved} approved, {rejected} rejected; fewer "
        "than {min}, too few to trust)",
        "{band} 구간 정밀도 {precision} (승인 {approved}, 거부 {rejected}; {min}개 미만이라 "
        "신뢰하기 어려움)",
        "{band} 区分の適合率 {precision} (承認 {approved}、却下 {rejected}。{min} 件未満のため"
        "信頼できません)",
        "{band} 区间精确率 {precision} (批准 {approved}，拒绝 {rejected}；少于 {min} 个，"
        "样本太少不可信)",
    ),
    "learn.thresholds": (
        "suggested thresholds: {which}",
        "제안 임곗값: {which}",
        "推奨しきい値: {which}",
        "建议阈值：{which}",
    ),
    "learn.thresholds_precision": (
        "suggested thresholds: {which} (decided pairs at or above it: precision >= {target})",
        "제안 임곗값: {which} (그 이상의 결정된 쌍: 정밀도 >= {target})",
        "推奨しきい値: {which} (それ以上の判断済みペア: 適合率 >= {target})",
        "建议阈值：{which} (达到或高于该值的已决定记录对：精确率 >= {target})",
    ),
    # --- findings written by code (rule packs carry their own translations) ----------------
    # `finding.<rule id>`: the English text is the one the code writes (tests compare them)
    "finding.normalize.country.unknown": (
        "'{value}' is not a country name or ISO code we know.",
        "'{value}' 은(는) 알 수 없는 국가명 또는 ISO 코드입니다.",
        "「{value}」は既知の国名または ISO コードではありません。",
        "“{value}”不是已知的国家名称或 ISO 代码。",
    ),
    "finding.normalize.email.multiple": (
        "The field held several addresses; the first one was kept.",
        "필드에 주소가 여러 개 있어 첫 번째 주소만 남겼습니다.",
        "欄に複数のアドレスがあったため、最初のものを残しました。",
        "该字段包含多个地址，已保留第一个。",
    ),
    "finding.normalize.date.unparseable": (
        "'{value}' is not a date we can read.",
        "'{value}' 은(는) 읽을 수 있는 날짜가 아닙니다.",
        "「{value}」は読み取れる日付ではありません。",
        "无法将“{value}”识别为日期。",
    ),
    "finding.normalize.number.unparseable": (
        "'{value}' is not a number.",
        "'{value}' 은(는) 숫자가 아닙니다.",
        "「{value}」は数値ではありません。",
        "“{value}”不是数字。",
    ),
    "finding.normalize.bool.unparseable": (
        "'{value}' is not a yes/no value.",
        "'{value}' 은(는) 예/아니요 값이 아닙니다.",
        "「{value}」ははい/いいえの値ではありません。",
        "“{value}”不是是/否值。",
    ),
    "finding.normalize.phone.unparseable": (
        "'{value}' could not be read as a phone number.",
        "'{value}' 을(를) 전화번호로 읽을 수 없습니다.",
        "「{value}」を電話番号として読み取れませんでした。",
        "无法将“{value}”识别为电话号码。",
    ),
    "finding.normalize.phone.invalid": (
        "'{value}' is not a valid {where} number (wrong length or unassigned prefix).",
        "'{value}' 은(는) 올바른 {where} 번호가 아닙니다 (자릿수 오류 또는 할당되지 않은 국번).",
        "「{value}」は有効な {where} の番号ではありません (桁数の誤りまたは未割り当ての番号帯)。",
        "“{value}”不是有效的 {where} 号码 (位数错误或号段未分配)。",
    ),
    "finding.normalize.phone.spreadsheet": (
        "The spreadsheet turned this phone into a number ('{value}': {where}); it is not used.",
        "스프레드시트가 이 전화번호를 숫자로 바꿔 버려 ('{value}': {where}) 사용하지 않습니다.",
        "表計算ソフトがこの電話番号を数値に変換したため (「{value}」: {where})、使用しません。",
        "电子表格把这个电话号码变成了数字 (“{value}”：{where})，因此不予使用。",
    ),
    "finding.normalize.phone.region": (
        "{n} of {total} phones in source '{source}' do not parse as {region} numbers; are they "
        "from {country} ({guess})?",
        "소스 '{source}' 의 전화번호 {total}개 중 {n}개가 {region} 번호로 읽히지 않습니다. "
        "{country} ({guess}) 번호가 아닌가요?",
        "ソース「{source}」の電話番号 {total} 件のうち {n} 件が {region} の番号として読めません。"
        "{country} ({guess}) の番号ではありませんか?",
        "数据源“{source}”的 {total} 个电话号码中有 {n} 个无法按 {region} 号码解析；"
        "它们是否来自 {country} ({guess})？",
    ),
    "phone.region_unguessed": (
        "{n} of {total} phones in source '{source}' do not parse as {region} numbers.",
        "소스 '{source}' 의 전화번호 {total}개 중 {n}개가 {region} 번호로 읽히지 않습니다.",
        "ソース「{source}」の電話番号 {total} 件のうち {n} 件が {region} の番号として読めません。",
        "数据源“{source}”的 {total} 个电话号码中有 {n} 个无法按 {region} 号码解析。",
    ),
    "finding.normalize.phone.region_inferred": (
        "Phones without a country code in source '{source}' were read as {region} numbers "
        "(no phone_region set).",
        "소스 '{source}' 의 국가 코드 없는 전화번호를 {region} 번호로 읽었습니다 "
        "(phone_region 미설정).",
        "ソース「{source}」の国番号なしの電話番号を {region} の番号として読みました "
        "(phone_region 未設定)。",
        "数据源“{source}”中不带国家代码的电话号码已按 {region} 号码读取 (未设置 phone_region)。",
    ),
    "finding.match.duplicate.probable": (
        "probable duplicate of another contact",
        "다른 연락처와 중복일 가능성이 높음",
        "別の連絡先と重複している可能性が高い",
        "很可能与另一联系人重复",
    ),
    "finding.match.duplicate.possible": (
        "possible duplicate of another contact (review)",
        "다른 연락처와 중복일 수 있음 (검토 필요)",
        "別の連絡先と重複している可能性あり (要確認)",
        "可能与另一联系人重复 (待审核)",
    ),
    # `suggestion.<rule id>`: the fix proposed by code-side findings (same English as the code)
    "suggestion.normalize.country.unknown": (
        "Use an ISO 3166 code (KR, JP, US) or the English name.",
        "ISO 3166 코드(KR, JP, US)나 영어 국가명을 쓰세요.",
        "ISO 3166 コード (KR、JP、US) または英語の国名を使ってください。",
        "请使用 ISO 3166 代码 (KR、JP、US) 或英文国名。",
    ),
    "suggestion.normalize.email.multiple": (
        "Put each address in its own contact or field.",
        "주소마다 별도의 연락처나 필드에 넣으세요.",
        "アドレスごとに別の連絡先または欄に入れてください。",
        "请把每个地址放在单独的联系人或字段中。",
    ),
    "suggestion.normalize.date.unparseable": (
        "Write dates as YYYY-MM-DD (or YYYY-MM-DD HH:MM).",
        "날짜는 YYYY-MM-DD (또는 YYYY-MM-DD HH:MM) 형식으로 쓰세요.",
        "日付は YYYY-MM-DD (または YYYY-MM-DD HH:MM) の形式で書いてください。",
        "日期请写成 YYYY-MM-DD (或 YYYY-MM-DD HH:MM)。",
    ),
    "suggestion.normalize.number.unparseable": (
        "Write numbers with digits only (1234.50).",
        "숫자는 숫자만으로 쓰세요 (1234.50).",
        "数値は数字だけで書いてください (1234.50)。",
        "数字请只用数字书写 (1234.50)。",
    ),
    "suggestion.normalize.bool.unparseable": (
        "Use true/false or yes/no.",
        "true/false 또는 yes/no 를 쓰세요.",
        "true/false または yes/no を使ってください。",
        "请使用 true/false 或 yes/no。",
    ),
    "suggestion.normalize.phone.unparseable": (
        "Add the country code ({example}) or correct the digits.",
        "국가 코드를 붙이거나 ({example}) 숫자를 고치세요.",
        "国番号を付けるか ({example})、番号を修正してください。",
        "请加上国家代码 ({example}) 或更正号码。",
    ),
    "suggestion.normalize.phone.invalid": (
        "Correct the digits or write the number with its country code ({example}); if this"
        " source's numbers are from another country, set sources[].phone_region.",
        "숫자를 고치거나 국가 코드를 붙여 쓰세요 ({example}). 이 소스의 번호가 다른 나라 "
        "번호라면 sources[].phone_region 을 설정하세요.",
        "番号を修正するか、国番号付きで書いてください ({example})。このソースの番号が別の国の"
        "ものなら sources[].phone_region を設定してください。",
        "请更正号码或加上国家代码书写 ({example})；如果该数据源的号码来自其他国家，请设置 "
        "sources[].phone_region。",
    ),
    "suggestion.normalize.phone.spreadsheet": (
        "Re-export the column as text (format it as Text before saving) and re-run.",
        "열을 텍스트로 다시 내보낸 뒤 (저장 전에 텍스트 서식 지정) 다시 실행하세요.",
        "列を文字列として再エクスポートし (保存前に書式を文字列に設定)、再実行してください。",
        "请将该列重新导出为文本 (保存前设置为文本格式) 后重新运行。",
    ),
    "suggestion.normalize.phone.region": (
        "Set phone_region: {guess} for source '{source}' in sources[].",
        "sources[] 에서 소스 '{source}' 에 phone_region: {guess} 를 설정하세요.",
        "sources[] でソース「{source}」に phone_region: {guess} を設定してください。",
        "请在 sources[] 中为数据源“{source}”设置 phone_region: {guess}。",
    ),
    "phone.region_set_country": (
        "Set phone_region for source '{source}' in sources[] to its country.",
        "sources[] 에서 소스 '{source}' 의 phone_region 을 그 나라로 설정하세요.",
        "sources[] でソース「{source}」の phone_region をその国に設定してください。",
        "请在 sources[] 中将数据源“{source}”的 phone_region 设置为其所在国家。",
    ),
    "suggestion.normalize.phone.region_inferred": (
        "Set phone_region for source '{source}' in sources[] to confirm or change it.",
        "확인하거나 바꾸려면 sources[] 에서 소스 '{source}' 의 phone_region 을 설정하세요.",
        "確定または変更するには、sources[] でソース「{source}」の phone_region を設定して"
        "ください。",
        "如需确认或更改，请在 sources[] 中为数据源“{source}”设置 phone_region。",
    ),
    "suggestion.match.duplicate.probable": (
        "merge into {record}",
        "{record} 에 병합",
        "{record} に統合",
        "合并到 {record}",
    ),
    "suggestion.match.duplicate.possible": (
        "merge into {record}",
        "{record} 에 병합",
        "{record} に統合",
        "合并到 {record}",
    ),
    "suggestion.contacts.email.typo_domain": (
        "did you mean {address}? (a guess: confirm with the contact)",
        "{address} 을(를) 말씀하신 건가요? (추정이므로 연락처에 확인하세요)",
        "{address} の誤りではありませんか? (推測です。本人に確認してください)",
        "您是否指 {address}? (仅为推测：请与联系人确认)",
    ),
    "suggestion.source.row": (
        "fix the row in the file (quote values that contain the delimiter) and re-run",
        "파일의 해당 행을 고친 뒤 (구분자가 들어간 값은 따옴표로 감싸기) 다시 실행하세요",
        "ファイルの該当行を修正し (区切り文字を含む値は引用符で囲む)、再実行してください",
        "请修正文件中的该行 (包含分隔符的值要加引号) 后重新运行",
    ),
    "source.row_not_read": (
        "{file} {where}: {reason}; the row was not read",
        "{file} {where}: {reason}. 이 행은 읽지 않았습니다",
        "{file} {where}: {reason}。この行は読み込んでいません",
        "{file} {where}：{reason}；未读取此行",
    ),
    "source.line": ("line {n}", "{n}번째 줄", "{n} 行目", "第 {n} 行"),
    "source.row": ("row {n}", "{n}번째 행", "{n} 行目", "第 {n} 行"),
    "source.sheet_row": (
        "sheet {sheet} row {n}",
        "시트 {sheet} {n}번째 행",
        "シート {sheet} の {n} 行目",
        "工作表 {sheet} 第 {n} 行",
    ),
    "source.footer_line": ("footer line", "바닥글 줄", "フッター行", "页脚行"),
    "source.footer_row": ("footer row", "바닥글 행", "フッター行", "页脚行"),
    "source.too_many_fields": (
        "{n} fields where the header has {m}",
        "머리글은 {m}개인데 필드가 {n}개",
        "ヘッダーは {m} 列なのにフィールドが {n} 個",
        "表头有 {m} 列，但该行有 {n} 个字段",
    ),
    "source.too_few_fields": (
        "{n} field(s) where the header has {m}",
        "머리글은 {m}개인데 필드가 {n}개",
        "ヘッダーは {m} 列なのにフィールドが {n} 個",
        "表头有 {m} 列，但该行只有 {n} 个字段",
    ),
    "source.right_of_header": (
        "values to the right of the last headed column",
        "머리글이 있는 마지막 열보다 오른쪽에 값이 있음",
        "見出しのある最後の列より右に値がある",
        "最后一个有表头的列右侧还有值",
    ),
    "source.anonymous_response": (
        "survey response without an email, phone or name (its answers are in surveys)",
        "이메일, 전화번호, 이름이 없는 설문 응답 (답변은 surveys 에 있음)",
        "メール・電話番号・名前のないアンケート回答 (回答内容は surveys にあります)",
        "没有邮箱、电话或姓名的问卷答复 (答复内容在 surveys 中)",
    ),
    "source.file_not_read": (
        "{file}: {reason}; not read",
        "{file}: {reason}. 읽지 않았습니다",
        "{file}: {reason}。読み込んでいません",
        "{file}：{reason}；未读取",
    ),
    "source.no_reader": (
        "no reader for this kind of file",
        "이 종류의 파일을 읽는 리더가 없음",
        "この種類のファイルを読むリーダーがない",
        "没有可读取此类文件的读取器",
    ),
    "source.file_unreadable": (
        "{error} The other files were read.",
        "{error} 다른 파일은 읽었습니다.",
        "{error} ほかのファイルは読み込みました。",
        "{error} 其他文件已读取。",
    ),
    # the kind of value found in the wrong field (rule kind wrong_field: {looks_like})
    "looks.email": ("email", "이메일 주소", "メールアドレス", "邮箱地址"),
    "looks.phone": ("phone", "전화번호", "電話番号", "电话号码"),
    "looks.url": ("url", "URL", "URL", "网址"),
    # why a dimension is n/a (audit/score/__init__.py)
    "score.errored": (
        "n/a: its checks errored ({ids}), so the result is unknown",
        "n/a: 검사 중 오류가 발생해 ({ids}) 결과를 알 수 없습니다",
        "n/a: チェックでエラーが発生したため ({ids})、結果は不明です",
        "n/a: 检查出错 ({ids})，结果未知",
    ),
    "score.nothing_to_check": (
        "n/a: its {n} rules found nothing to check: their columns are missing or empty in the data",
        "n/a: 규칙 {n}개가 검사할 값을 찾지 못했습니다. 해당 열이 데이터에 없거나 비어 있습니다",
        "n/a: {n} 件のルールが検査対象を見つけられませんでした。対象の列がデータにないか空です",
        "n/a: {n} 条规则没有可检查的内容：相关列在数据中缺失或为空",
    ),
    "score.info_only": (
        "n/a: only info rules check it, and they do not score",
        "n/a: 정보(info) 규칙만 검사하며, 정보 규칙은 점수에 반영되지 않습니다",
        "n/a: 情報 (info) ルールだけが検査しており、情報ルールは採点されません",
        "n/a: 只有信息 (info) 规则检查它，而信息规则不计分",
    ),
    "score.no_rule": (
        "n/a: no rule checks it on the entities read: {entities}",
        "n/a: 읽은 엔터티에 대해 이 차원을 검사하는 규칙이 없습니다: {entities}",
        "n/a: 読み込んだエンティティでこのディメンションを検査するルールはありません: {entities}",
        "n/a: 没有规则在已读取的实体上检查此维度：{entities}",
    ),
    "score.not_measured": (
        "n/a: no dimension was measured on the records read",
        "n/a: 읽은 레코드에서 측정된 차원이 없습니다",
        "n/a: 読み込んだレコードでは測定できたディメンションがありません",
        "n/a: 读取的记录中没有可测量的维度",
    ),
    # --- KPI titles (`kpi.<kpi id>`; the English is the KPI's own title, a test compares) ----
    "kpi.active_customers": (
        "Active customers",
        "활성 고객 수",
        "アクティブ顧客数",
        "活跃客户数",
    ),
    "kpi.avg_purchase_value": (
        "Average purchase value",
        "평균 구매 금액",
        "平均購入金額",
        "平均购买金额",
    ),
    "kpi.cac": (
        "Customer acquisition cost",
        "고객 획득 비용",
        "顧客獲得コスト",
        "客户获取成本",
    ),
    "kpi.ces": (
        "Customer effort score (CES)",
        "고객 노력 점수 (CES)",
        "顧客努力指標 (CES)",
        "客户费力度 (CES)",
    ),
    "kpi.churn_rate": (
        "Customer churn rate",
        "고객 이탈률",
        "顧客解約率",
        "客户流失率",
    ),
    "kpi.close_rate": (
        "Close rate (win rate)",
        "성사율 (수주율)",
        "成約率 (受注率)",
        "成交率 (赢单率)",
    ),
    "kpi.clv": (
        "Customer lifetime value",
        "고객 생애 가치",
        "顧客生涯価値",
        "客户终身价值",
    ),
    "kpi.clv_saas": (
        "Customer lifetime value (subscriptions, gross margin)",
        "고객 생애 가치 (구독, 매출총이익 기준)",
        "顧客生涯価値 (サブスクリプション、粗利ベース)",
        "客户终身价值 (订阅，按毛利计)",
    ),
    "kpi.conversion_rate_by_lead_source": (
        "Sales conversion rate (all sources; per source in the breakdown)",
        "영업 전환율 (전체 유입 경로, 경로별은 세부 분석 참조)",
        "営業転換率 (全流入元。流入元別は内訳を参照)",
        "销售转化率 (全部来源；各来源见细分)",
    ),
    "kpi.cross_sell_rate": (
        "Cross-sell rate",
        "교차 판매율",
        "クロスセル率",
        "交叉销售率",
    ),
    "kpi.csat": (
        "Customer satisfaction (CSAT)",
        "고객 만족도 (CSAT)",
        "顧客満足度 (CSAT)",
        "客户满意度 (CSAT)",
    ),
    "kpi.customer_lifespan": (
        "Average customer lifespan",
        "평균 고객 유지 기간",
        "平均顧客継続期間",
        "平均客户生命周期",
    ),
    "kpi.customer_retention_cost": (
        "Customer retention cost",
        "고객 유지 비용",
        "顧客維持コスト",
        "客户维系成本",
    ),
    "kpi.customer_value": (
        "Average customer value",
        "평균 고객 가치",
        "平均顧客価値",
        "平均客户价值",
    ),
    "kpi.email_list_growth_rate": (
        "Email list growth rate",
        "이메일 목록 증가율",
        "メールリスト増加率",
        "邮件列表增长率",
    ),
    "kpi.email_reachability": (
        "Email reachability",
        "이메일 도달 가능률",
        "メール到達可能率",
        "邮件可达率",
    ),
    "kpi.first_reply_time": (
        "Average first reply time",
        "평균 첫 응답 시간",
        "平均初回返信時間",
        "平均首次回复时间",
    ),
    "kpi.funnel_close_rate": (
        "Funnel close rate",
        "퍼널 성사율",
        "ファネル成約率",
        "漏斗成交率",
    ),
    "kpi.gross_revenue_retention": (
        "Gross revenue retention (GRR)",
        "총매출 유지율 (GRR)",
        "グロス売上維持率 (GRR)",
        "总收入留存率 (GRR)",
    ),
    "kpi.lead_to_opportunity_rate": (
        "Lead-to-opportunity rate",
        "리드-기회 전환율",
        "リードから商談への転換率",
        "线索转商机率",
    ),
    "kpi.net_new_revenue": (
        "Net new revenue",
        "순 신규 매출",
        "純新規売上",
        "净新增收入",
    ),
    "kpi.net_revenue_retention": (
        "Net revenue retention (NRR)",
        "순매출 유지율 (NRR)",
        "ネット売上維持率 (NRR)",
        "净收入留存率 (NRR)",
    ),
    "kpi.nps": (
        "Net Promoter Score",
        "순추천지수 (NPS)",
        "ネットプロモータースコア (NPS)",
        "净推荐值 (NPS)",
    ),
    "kpi.nps_like": (
        "NPS-like score (1-5 survey, not comparable with NPS)",
        "NPS 유사 점수 (1-5점 설문, NPS와 비교 불가)",
        "NPS 類似スコア (1～5 の設問、NPS とは比較不可)",
        "类 NPS 得分 (1-5 分问卷，不可与 NPS 比较)",
    ),
    "kpi.pipeline_stage_length": (
        "Pipeline stage length (all stages; per stage in the breakdown)",
        "파이프라인 단계 체류 기간 (전체 단계, 단계별은 세부 분석 참조)",
        "パイプラインのステージ滞留期間 (全ステージ。ステージ別は内訳を参照)",
        "管道阶段停留时长 (全部阶段；各阶段见细分)",
    ),
    "kpi.purchase_frequency": (
        "Purchase frequency",
        "구매 빈도",
        "購入頻度",
        "购买频次",
    ),
    "kpi.quota_attainment": (
        "Quota attainment",
        "할당량 달성률",
        "ノルマ達成率",
        "配额完成率",
    ),
    "kpi.renewal_rate": (
        "Renewal rate",
        "갱신율",
        "更新率",
        "续约率",
    ),
    "kpi.resolution_time_first": (
        "Average first resolution time",
        "평균 첫 해결 시간",
        "平均初回解決時間",
        "平均首次解决时间",
    ),
    "kpi.resolution_time_first_median": (
        "Median first resolution time",
        "첫 해결 시간 중앙값",
        "初回解決時間の中央値",
        "首次解决时间中位数",
    ),
    "kpi.resolution_time_full": (
        "Average full resolution time",
        "평균 완전 해결 시간",
        "平均完全解決時間",
        "平均完全解决时间",
    ),
    "kpi.resolution_time_full_median": (
        "Median full resolution time",
        "완전 해결 시간 중앙값",
        "完全解決時間の中央値",
        "完全解决时间中位数",
    ),
    "kpi.retention_rate": (
        "Customer retention rate",
        "고객 유지율",
        "顧客維持率",
        "客户留存率",
    ),
    "kpi.revenue_churn": (
        "Revenue churn (gross MRR)",
        "매출 이탈률 (총 MRR)",
        "売上解約率 (グロス MRR)",
        "收入流失率 (总 MRR)",
    ),
    "kpi.sales_cycle_length": (
        "Sales cycle length",
        "영업 주기 기간",
        "営業サイクル期間",
        "销售周期时长",
    ),
    "kpi.same_day_closed_cases": (
        "Same-day closed cases",
        "당일 종결 건",
        "当日クローズ件数",
        "当天结案的工单",
    ),
    "kpi.sla_compliance": (
        "SLA compliance (resolution)",
        "SLA 준수율 (해결)",
        "SLA 遵守率 (解決)",
        "SLA 达成率 (解决)",
    ),
    "kpi.upsell_rate": (
        "Upsell rate",
        "업셀 비율",
        "アップセル率",
        "追加销售率",
    ),
    # --- why a KPI moved between raw and clean data (audit/kpis/impact.py) ------------------
    "impact.customer_count": (
        "customer count {pct} after {why}",
        "{why} 후 고객 수 {pct}",
        "{why}により顧客数 {pct}",
        "{why}后客户数 {pct}",
    ),
    "impact.merging": (
        "merging {n} duplicates",
        "중복 {n}건 병합",
        "重複 {n} 件の統合",
        "合并 {n} 条重复记录",
    ),
    "impact.leaving_out": (
        "leaving out {n} deleted or archived contacts",
        "삭제 또는 보관된 연락처 {n}건 제외",
        "削除またはアーカイブ済みの連絡先 {n} 件の除外",
        "排除 {n} 个已删除或归档的联系人",
    ),
    "impact.emails_excluded": (
        "{n} invalid or stale emails excluded",
        "유효하지 않거나 오래된 이메일 {n}건 제외",
        "無効または古いメールアドレス {n} 件を除外",
        "排除 {n} 个无效或过时的邮箱",
    ),
    "impact.rows_once": (
        "{n} duplicate {entity} rows counted once",
        "중복된 {entity} 행 {n}건을 한 번만 계산",
        "重複した{entity}の行 {n} 件を 1 回だけ計上",
        "{n} 条重复的{entity}记录只计一次",
    ),
    "impact.denominator": (
        "denominator {a} -> {b}",
        "분모 {a} -> {b}",
        "分母 {a} -> {b}",
        "分母 {a} -> {b}",
    ),
    "impact.status": ("status {a} -> {b}", "상태 {a} -> {b}", "状態 {a} -> {b}", "状态 {a} -> {b}"),
    "impact.value": (
        "{kpi} {a} -> {b}",
        "{kpi} {a} -> {b}",
        "{kpi} {a} -> {b}",
        "{kpi} {a} -> {b}",
    ),
    "impact.no_data": ("no data", "데이터 없음", "データなし", "无数据"),
    "impact.no_change": ("no change", "변화 없음", "変化なし", "无变化"),
    # --- the terminal summary (audit/cli/common.py echo_summary) ---------------------------
    "term.header": (
        "crm-audit run {run} (as of {as_of})",
        "crm-audit 실행 {run} (기준일 {as_of})",
        "crm-audit 実行 {run} (基準日 {as_of})",
        "crm-audit 运行 {run} (基准日期 {as_of})",
    ),
    "term.records": ("records:", "레코드:", "レコード:", "记录:"),
    "term.no_records": ("no records", "레코드 없음", "レコードなし", "无记录"),
    "term.n_entity": ("{n} {entity}", "{entity} {n}건", "{entity} {n} 件", "{entity} {n} 条"),
    "term.not_read": ("NOT READ:", "읽지 못함:", "読込失敗:", "未读取:"),
    "term.skipped": ("skipped:", "건너뜀:", "スキップ:", "已跳过:"),
    "term.files": (
        ("{n} file: {files}", "{n} files: {files}"),
        "파일 {n}개: {files}",
        "{n} ファイル: {files}",
        "{n} 个文件：{files}",
    ),
    "term.quality": ("quality:", "품질:", "品質:", "质量:"),
    "term.floor": ("floor {floor}", "하한 {floor}", "下限 {floor}", "下限 {floor}"),
    "term.no_floor": ("no floor", "하한 없음", "下限なし", "无下限"),
    "term.rows_fail": (
        "{n_failed} of {n_checked} rows fail",
        "{n_checked}행 중 {n_failed}행 실패",
        "{n_checked} 行中 {n_failed} 行が不合格",
        "{n_checked} 行中 {n_failed} 行未通过",
    ),
    "term.weakest": (
        "weakest: {entity} {score}",
        "가장 낮음: {entity} {score}",
        "最も低い: {entity} {score}",
        "最低：{entity} {score}",
    ),
    "term.not_measured": ("not measured", "측정되지 않음", "未測定", "未测量"),
    "term.issues": ("issues:", "이슈:", "問題:", "问题:"),
    "term.bounces": ("bounces:", "반송:", "バウンス:", "退信:"),
    "term.bounce_counts": (
        "{n} ({hard} hard, {soft} soft); {dead} dead addresses",
        "{n}건 (하드 {hard}, 소프트 {soft}); 사용할 수 없는 주소 {dead}개",
        "{n} 件 (ハード {hard}、ソフト {soft})。無効なアドレス {dead} 件",
        "{n} 封 (硬退回 {hard}，软退回 {soft})；失效地址 {dead} 个",
    ),
    "term.and_more": (" and {n} more", " 외 {n}개", " ほか {n} 件", " 等另外 {n} 个"),
    "term.duplicates": ("duplicates:", "중복:", "重複:", "重复:"),
    "term.clusters_pairs": (
        "{clusters} clusters; pairs {bands}",
        "클러스터 {clusters}개; 후보 쌍 {bands}",
        "{clusters} クラスター、候補ペア {bands}",
        "{clusters} 个聚类；候选记录对 {bands}",
    ),
    "term.gate": ("gate:", "게이트:", "ゲート:", "门禁:"),
    "term.withheld": (
        "withheld {kpi}: {why}",
        "보류 {kpi}: {why}",
        "保留 {kpi}: {why}",
        "暂不发布 {kpi}：{why}",
    ),
    "term.quick_wins": ("quick wins:", "빠른 개선 항목:", "すぐにできる改善:", "快速改进项:"),
    "term.kpis": ("kpis:", "KPI:", "KPI:", "KPI:"),
    "term.no_value": ("no value:", "값 없음:", "値なし:", "无数值:"),
    "term.n_kpis": (
        ("{n} KPI ({kpis})", "{n} KPIs ({kpis})"),
        "KPI {n}개 ({kpis})",
        "KPI {n} 件 ({kpis})",
        "{n} 个 KPI ({kpis})",
    ),
    "term.since": ("since {run}:", "{run} 이후:", "{run} 以降:", "自 {run} 以来:"),
    "term.decisions": ("decisions:", "결정:", "判断:", "决定:"),
    "term.report": ("report:", "보고서:", "レポート:", "报告:"),
    "term.next": ("next:", "다음 할 일:", "次にすること:", "下一步:"),
    "term.none": ("none", "없음", "なし", "无"),
}

# parameters whose value is itself a sentence of the catalogue (or a list of them)
_NESTED = frozenset({"detail", "why", "win", "warning", "where", "name", "moves", "bands"})
_NESTED |= {"reason"}
_SEPARATORS = ("; ", ", ", " and ")


def _index(language: str) -> int:
    return LANGUAGES.index(language) if language in LANGUAGES else 0


def _plural_en(text: Text, params: Mapping[str, Any]) -> str:
    if isinstance(text, str):
        return text
    n = params.get("n")
    try:
        one = int(str(n).replace(",", "")) == 1
    except ValueError:
        one = False
    return text[0] if one else text[1]


def _param(v: Any) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def msg(key: str, language: str = "en", /, **params: Any) -> str:
    """The sentence `key` in `language`, its {parameters} filled (ints with separators)."""
    entry = _MESSAGES[key]
    text = entry[_index(language)] or entry[0]
    template = _plural_en(text, params)
    return template.format_map({k: _param(v) for k, v in params.items()})


def entity_name(entity: str, language: str) -> str:
    """'contacts' in the language's words (unknown entities stay as written)."""
    key = f"entity.{entity}"
    return msg(key, language) if key in _MESSAGES else entity


def has_key(key: str) -> bool:
    return key in _MESSAGES


def message_keys() -> list[str]:
    return sorted(_MESSAGES)


def catalogue() -> dict[str, tuple[Text, str, str, str]]:
    """Every entry (for tests and tools)."""
    return dict(_MESSAGES)


# ---------------------------------------------------------------------------------------------
# translating a stored English sentence


# what a parameter looks like, by its name: typed parameters make the reading unambiguous
_COUNT = r"[\d,]+"
_NUMBER = r"[-+]?[\d.,]+%?"
_ID = r"[\w.\-]+"
_PATTERNS = {
    **dict.fromkeys(
        ("n", "n_failed", "n_checked", "clusters", "hard", "soft", "dead", "min"), _COUNT
    ),
    **dict.fromkeys(("approved", "rejected", "grown", "shrunk", "changed", "split"), _COUNT),
    **dict.fromkeys(("unchanged", "m"), _COUNT),
    **dict.fromkeys(("score", "floor", "rate", "share", "threshold", "points"), _NUMBER),
    **dict.fromkeys(("precision", "target", "delta", "value", "pct"), _NUMBER),
    **dict.fromkeys(("rule", "kpi", "key", "column", "field", "run"), _ID),
    "entity": r"[a-z_]+",
    "dim": r"[a-z]+",
    "band": r"[a-z]+",
}


def template_regex(
    template: str, patterns: Mapping[str, str] | None = None, *, empty: bool = False
) -> re.Pattern[str]:
    """The regex that reads a sentence rendered from `template` back into its parameters
    (`empty`: a parameter may be empty, as a finding's value may be)."""
    patterns = _PATTERNS if patterns is None else patterns
    out, seen = [], set()
    pos = 0
    for m in re.finditer(r"\{(\w+)(?:[:!][^}]*)?\}", template):
        out.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        pattern = patterns.get(name, ".*?" if empty else ".+?")
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>{pattern})")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out), re.DOTALL)


@functools.cache
def _english() -> list[tuple[str, re.Pattern[str]]]:
    """(key, regex) for every English template; longer literal text first (more specific)."""
    pats = []
    for key, entry in _MESSAGES.items():
        forms = entry[0] if isinstance(entry[0], tuple) else (entry[0],)
        for form in forms:
            literal = len(re.sub(r"\{\w+\}", "", form))
            pats.append((-literal, key, form))
    return [(key, template_regex(form)) for _, key, form in sorted(pats)]


def words(prefix: str) -> dict[str, tuple[Text, str, str, str]]:
    """The entries under `prefix` ('dim.', 'band.'): single words the report labels share."""
    return {k: v for k, v in _MESSAGES.items() if k.startswith(prefix)}


def _dimension_words(language: str) -> dict[str, str]:
    return {k.split(".", 1)[1]: msg(k, language) for k in words("dim.")}


def _nested(value: str, language: str) -> str:
    """A parameter that is itself a sentence, or a list of sentences, or a dimension name."""
    words = _dimension_words(language)
    if value in words:
        return words[value]
    got = _translate(value, language)
    return value if got is None else got


def _translate(value: str, language: str) -> str | None:
    """'a; b, c': a list of lists of sentences; None unless every piece is a sentence."""
    if "; " in value:
        done = [_translate(p, language) for p in value.split("; ")]
        if all(d is not None for d in done):
            return _join("; ", language).join(d for d in done if d is not None)
    one = _match(value, language)
    if one is not None:
        return one
    for sep in _SEPARATORS[1:]:
        if sep in value:
            parts = [_match(p, language) for p in value.split(sep)]
            if all(d is not None for d in parts):
                return _join(sep, language).join(d for d in parts if d is not None)
    return None


def list_separator(language: str, sep: str = ", ") -> str:
    """How `language` separates the items of a list (', ' or '; ' in English)."""
    return _join(sep, language)


def _join(sep: str, language: str) -> str:
    if language == "ja":
        return "、"
    if language == "zh":
        return "；" if sep == "; " else "、"
    return ", " if sep == " and " else sep


def _fill(template: str, params: dict[str, str], language: str) -> str:
    vals = {}
    for k, v in params.items():
        if k in _NESTED:
            v = _nested(v, language)
        elif k == "entity":
            v = entity_name(v, language)
        elif k == "dim":
            v = _dimension_words(language).get(v, v)
        elif k == "band":
            v = band_name(v, language)
        vals[k] = v
    return template.format_map(vals)


def band_name(band: str, language: str) -> str:
    """'auto' / 'review' in the language's words."""
    key = f"band.{band}"
    return msg(key, language) if key in _MESSAGES else band


def _match(text: str, language: str) -> str | None:
    for key, rx in _english():
        m = rx.fullmatch(text)
        if m is not None:
            entry = _MESSAGES[key]
            target = entry[_index(language)] or entry[0]
            return _fill(_plural_en(target, m.groupdict()), m.groupdict(), language)
    return None


def localize(text: str, language: str) -> str:
    """`text` (an English sentence of the catalogue) in `language`; unknown text unchanged."""
    if language == "en" or not text:
        return text
    return _nested(text, language)


def localize_all(texts: Iterable[str], language: str) -> list[str]:
    return [localize(t, language) for t in texts]


# ---------------------------------------------------------------------------------------------
# findings (the issues table)

RuleTexts = Mapping[str, Mapping[str, str]]  # rule id -> language -> message template


def localize_finding(
    rule_id: str, message: str, language: str, templates: RuleTexts | None = None
) -> str:
    """A finding's message in `language`: from its rule's translations (rule packs), the
    catalogue's `finding.<rule id>`, or any sentence of the catalogue; else unchanged."""
    if language == "en" or not message:
        return message
    for texts in ((templates or {}).get(rule_id), _entry_texts(f"finding.{rule_id}", language)):
        got = _from_template(texts, message, language)
        if got is not None:
            return got
    return localize(message, language)


def localize_suggestion(
    rule_id: str, text: str, language: str, templates: RuleTexts | None = None
) -> str:
    """A finding's suggestion in `language` (the rule's own, `suggestion.<rule id>`, or any
    sentence of the catalogue); else unchanged."""
    if language == "en" or not text:
        return text
    for texts in (
        (templates or {}).get(rule_id),
        _entry_texts(f"suggestion.{rule_id}", language),
        _entry_texts(f"suggestion.{rule_id.rsplit('.', 1)[0]}", language),
    ):
        got = _from_template(texts, text, language)
        if got is not None:
            return got
    return localize(text, language)


def _entry_texts(key: str, language: str) -> dict[str, str] | None:
    entry = _MESSAGES.get(key)
    return None if entry is None else {"en": str(entry[0]), language: str(entry[_index(language)])}


def _from_template(texts: Mapping[str, str] | None, text: str, language: str) -> str | None:
    if not texts or not texts.get(language):
        return None
    m = _rule_regex(texts["en"]).fullmatch(text)
    if m is None:
        return None
    params = {
        k: (msg(f"looks.{v}", language) if k == "looks_like" and f"looks.{v}" in _MESSAGES else v)
        for k, v in m.groupdict().items()
    }
    return texts[language].format_map(_Leave(params))


@functools.lru_cache(maxsize=512)
def _rule_regex(template: str) -> re.Pattern[str]:
    return template_regex(template, {}, empty=True)  # a {value} is whatever the data holds


class _Leave(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
