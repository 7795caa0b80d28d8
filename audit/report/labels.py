"""Labels of the human-facing reports in English, Korean, Japanese and Chinese.

Only labels are translated; data values, rule ids and column names stay as they are so that a
Korean report and an English one can be compared cell by cell. A key missing in a language
falls back to English (a test checks that none is missing).
"""

from __future__ import annotations

LANGUAGES = ("en", "ko", "ja", "zh")

# key: (en, ko, ja, zh)
_LABELS: dict[str, tuple[str, str, str, str]] = {
    "title": (
        "CRM data quality report",
        "CRM 데이터 품질 보고서",
        "CRM データ品質レポート",
        "CRM 数据质量报告",
    ),
    "run": ("Run", "실행", "実行", "运行"),
    "as_of": ("As of", "기준일", "基準日", "基准日期"),
    "overall_score": ("Overall quality score", "전체 품질 점수", "総合品質スコア", "总体质量得分"),
    "dimensions": ("Score by dimension", "차원별 점수", "ディメンション別スコア", "各维度得分"),
    "dimension": ("Dimension", "차원", "ディメンション", "维度"),
    "score": ("Score", "점수", "スコア", "得分"),
    "trend": (
        "Trend vs previous runs",
        "이전 실행 대비 추이",
        "過去の実行との推移",
        "与历次运行对比",
    ),
    "no_history": (
        "No previous runs recorded yet.",
        "이전 실행 기록이 없습니다.",
        "過去の実行記録はまだありません。",
        "尚无历史运行记录。",
    ),
    "changes": (
        "Changes since the previous run",
        "이전 실행 이후 변화",
        "前回の実行からの変化",
        "自上次运行以来的变化",
    ),
    "current": ("Current", "현재", "今回", "本次"),
    "previous": ("Previous", "이전", "前回", "上次"),
    "delta": ("Change", "변화", "変化", "变化"),
    "issues": ("Issues", "이슈", "問題", "问题"),
    "issues_by_dimension": (
        "Issues by dimension",
        "차원별 이슈",
        "ディメンション別の問題",
        "按维度统计的问题",
    ),
    "issues_by_rule": ("Issues by rule", "규칙별 이슈", "ルール別の問題", "按规则统计的问题"),
    "rule": ("Rule", "규칙", "ルール", "规则"),
    "severity": ("Severity", "심각도", "重要度", "严重程度"),
    "count": ("Count", "건수", "件数", "数量"),
    "example": ("Example", "예시", "例", "示例"),
    "no_issues": (
        "No issues found.",
        "이슈가 없습니다.",
        "問題は見つかりませんでした。",
        "未发现问题。",
    ),
    "duplicates": ("Duplicates", "중복", "重複", "重复记录"),
    "pairs": ("Candidate pairs", "후보 쌍", "候補ペア", "候选记录对"),
    "clusters": ("Clusters", "클러스터", "クラスター", "聚类"),
    "records_in_clusters": (
        "Records in clusters",
        "클러스터에 속한 레코드",
        "クラスター内のレコード",
        "聚类中的记录",
    ),
    "band": ("Band", "구간", "判定区分", "区间"),
    "merge_review": (
        "Review the proposed merges",
        "병합 제안 검토",
        "統合案を確認する",
        "审核合并建议",
    ),
    "gate": ("Quality gate", "품질 게이트", "品質ゲート", "质量门禁"),
    "passed": ("PASSED", "통과", "合格", "通过"),
    "failed": ("FAILED", "실패", "不合格", "未通过"),
    "reasons": ("Reasons", "사유", "理由", "原因"),
    "warnings": ("Warnings", "경고", "警告", "警告"),
    "quick_wins": (
        "Quick wins",
        "빠른 개선 항목",
        "すぐにできる改善",
        "快速改进项",
    ),
    "kpis": ("KPIs", "KPI", "KPI", "KPI"),
    "kpi": ("KPI", "KPI", "KPI", "KPI"),
    "value": ("Value", "값", "値", "数值"),
    "unit": ("Unit", "단위", "単位", "单位"),
    "period": ("Period", "기간", "期間", "期间"),
    "withheld": ("Withheld", "보류됨", "保留", "暂不发布"),
    "withheld_kpis": (
        "Withheld KPIs",
        "보류된 KPI",
        "保留された KPI",
        "暂不发布的 KPI",
    ),
    "no_kpis": (
        "No KPIs were computed (the gate failed or no KPI applies).",
        "계산된 KPI가 없습니다 (게이트 실패 또는 해당 KPI 없음).",
        "KPI は計算されていません (ゲート不合格、または該当 KPI なし)。",
        "未计算 KPI (门禁未通过或无适用 KPI)。",
    ),
    "impact": (
        "Impact of data quality on KPIs (raw vs clean)",
        "데이터 품질이 KPI에 미친 영향 (원본 대 정제)",
        "データ品質が KPI に与えた影響 (元データ対クレンジング後)",
        "数据质量对 KPI 的影响 (原始与清洗后)",
    ),
    "crm_reports": ("CRM reports", "CRM 보고서", "CRM レポート", "CRM 报表"),
    "inventory": ("Field inventory", "필드 목록", "フィールド一覧", "字段清单"),
    "by_source": ("Score by source", "소스별 점수", "ソース別スコア", "各数据源得分"),
    "by_owner": (
        "Score by record owner",
        "담당자별 점수",
        "担当者別スコア",
        "各负责人得分",
    ),
    "records": ("Records", "레코드", "レコード", "记录"),
    "ingest": (
        "Rows read per file",
        "파일별 읽은 행",
        "ファイル別の読み込み行数",
        "各文件读取行数",
    ),
    "contract": (
        "Dataset contract (Great Expectations)",
        "데이터셋 계약 (Great Expectations)",
        "データセット契約 (Great Expectations)",
        "数据集契约 (Great Expectations)",
    ),
    "files": (
        "Files in this run folder",
        "실행 폴더의 파일",
        "実行フォルダーのファイル",
        "运行目录中的文件",
    ),
    "more_rows": (
        "{n} more rows in the CSV files",
        "CSV 파일에 {n}개 행 더 있음",
        "CSV ファイルにさらに {n} 行",
        "CSV 文件中还有 {n} 行",
    ),
    "redacted": (
        "Emails and phone numbers are masked in this report.",
        "이 보고서에서는 이메일과 전화번호가 가려져 있습니다.",
        "このレポートではメールアドレスと電話番号を伏せています。",
        "本报告中的邮箱和电话号码已脱敏。",
    ),
    "none": ("none", "없음", "なし", "无"),
    "not_measured": ("n/a", "n/a", "n/a", "n/a"),
    "bounces": ("Bounced email", "반송된 이메일", "バウンスしたメール", "退回的邮件"),
    "dead_addresses": (
        "Dead addresses (hard bounces)",
        "사용할 수 없는 주소 (하드 바운스)",
        "無効なアドレス（ハードバウンス）",
        "失效地址（硬退回）",
    ),
    "bounce_counts": (
        "{n} bounce messages: {hard} hard, {soft} soft",
        "반송 메시지 {n}건: 하드 {hard}, 소프트 {soft}",
        "バウンスメッセージ {n} 件: ハード {hard}、ソフト {soft}",
        "退信 {n} 封：硬退回 {hard}，软退回 {soft}",
    ),
    "note": ("Note", "비고", "備考", "备注"),
    "overall_not_measured": (
        "n/a: no dimension was measured on the records read",
        "n/a: 읽은 레코드에서 측정된 차원이 없습니다",
        "n/a: 読み込んだレコードでは測定できたディメンションがありません",
        "n/a: 读取的记录中没有可测量的维度",
    ),
    "completeness": ("completeness", "완전성", "完全性", "完整性"),
    "validity": ("validity", "유효성", "妥当性", "有效性"),
    "uniqueness": ("uniqueness", "유일성", "一意性", "唯一性"),
    "freshness": ("freshness", "최신성", "鮮度", "时效性"),
    "consistency": ("consistency", "일관성", "一貫性", "一致性"),
    "integrity": ("integrity", "무결성", "整合性", "完整约束"),
    "overall": ("overall", "전체", "総合", "总体"),
}


def labels(language: str = "en") -> dict[str, str]:
    """Every label in `language` (unknown languages fall back to English)."""
    i = LANGUAGES.index(language) if language in LANGUAGES else 0
    return {k: (v[i] or v[0]) for k, v in _LABELS.items()}


def label_keys() -> list[str]:
    return sorted(_LABELS)
