"""Labels of the human-facing reports in English, Korean, Japanese and Chinese.

Only labels are translated; data values, rule ids and column names stay as they are so that a
Korean report and an English one can be compared cell by cell. A key missing in a language
falls back to English (a test checks that none is missing). The report stage, the merge
review page and the CLI all show these labels, so the module sits below them.
"""

from __future__ import annotations

from audit.messages import words as _words

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
    "xlsx_cut": (
        "The first {shown:,} of {total:,} rows ({more:,} more); every row is in",
        "전체 {total:,}행 중 처음 {shown:,}행 ({more:,}행 더 있음). 모든 행은 이 파일에:",
        "全 {total:,} 行のうち最初の {shown:,} 行(残り {more:,} 行)。全行はこのファイルに:",
        "共 {total:,} 行，显示前 {shown:,} 行（另有 {more:,} 行）。全部行见文件：",
    ),
    "xlsx_table": ("Table", "표", "表", "表"),
    "xlsx_rows": ("Rows", "행 수", "行数", "行数"),
    "xlsx_in_workbook": (
        "Rows in this workbook",
        "이 통합 문서의 행",
        "このブックの行",
        "本工作簿中的行",
    ),
    "xlsx_file": (
        "File in the run folder",
        "실행 폴더의 파일",
        "実行フォルダーのファイル",
        "运行文件夹中的文件",
    ),
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
    # merge_review.html (audit/merge/review.py REVIEW_KEYS)
    "rv_title": ("Merge review", "병합 검토", "統合レビュー", "合并审核"),
    "rv_intro": (
        "Run {run}: {n} proposed merges ({review} to review, {auto} auto-band). Approve, reject "
        "or split each one, then download the decisions and run: crm-audit merge apply RUN "
        "--decisions FILE. Nothing changes until then; crm-audit merge undo reverses a merge "
        "exactly.",
        "실행 {run}: 병합 제안 {n}건 (검토 필요 {review}건, 자동 구간 {auto}건). 각 제안을 승인, "
        "거부 또는 분리한 뒤 결정을 내려받아 crm-audit merge apply RUN --decisions FILE 을 "
        "실행하세요. 그 전에는 아무것도 바뀌지 않으며, crm-audit merge undo 로 병합을 정확히 "
        "되돌릴 수 있습니다.",
        "実行 {run}: 統合案 {n} 件 (要確認 {review} 件、自動区分 {auto} 件)。それぞれを承認・却下・"
        "分割し、判断をダウンロードして crm-audit merge apply RUN --decisions FILE を実行して"
        "ください。それまでは何も変わりません。crm-audit merge undo で統合を正確に元に戻せます。",
        "运行 {run}：共 {n} 条合并建议 (待审核 {review} 条，自动区间 {auto} 条)。逐条批准、拒绝或"
        "拆分，然后下载决定并运行 crm-audit merge apply RUN --decisions FILE。在此之前不会有任何"
        "更改；crm-audit merge undo 可精确撤销合并。",
    ),
    "rv_capped": (
        "This page holds {shown} of the {n} proposed merges: every one to review first, then the "
        "auto-band ones with the lowest scores; merge_proposals.xlsx and merge_proposals.csv "
        "hold the same ones. All {n} are in merge_proposals.parquet, which is a decisions file "
        "too. Without a decision a merge is not applied, except the auto band when the config "
        "sets match.apply_auto.",
        "이 페이지에는 병합 제안 {n}건 중 {shown}건이 있습니다: 검토가 필요한 제안을 모두 먼저, "
        "그다음 점수가 가장 낮은 자동 구간 제안입니다. merge_proposals.xlsx 와 "
        "merge_proposals.csv 에도 같은 제안이 있습니다. {n}건 전부는 merge_proposals.parquet 에 "
        "있으며, 이 파일도 결정 파일로 쓸 수 있습니다. 결정이 없는 병합은 적용되지 않습니다 "
        "(설정에 match.apply_auto 가 켜져 있으면 자동 구간은 예외).",
        "このページには統合案 {n} 件のうち {shown} 件があります。要確認の案をすべて先に、次に"
        "スコアの低い自動区分の案です。merge_proposals.xlsx と merge_proposals.csv にも同じ案が"
        "あります。{n} 件すべては merge_proposals.parquet にあり、これも判断ファイルとして"
        "使えます。判断のない統合は適用されません (設定で match.apply_auto が有効なら"
        "自動区分は例外)。",
        "本页包含 {n} 条合并建议中的 {shown} 条：先是全部待审核的建议，然后是分数最低的自动区间"
        "建议；merge_proposals.xlsx 和 merge_proposals.csv 中是同样这些。全部 {n} 条都在 "
        "merge_proposals.parquet 中，它也可作为决定文件使用。没有决定的合并不会执行 (配置启用 "
        "match.apply_auto 时自动区间除外)。",
    ),
    "rv_search": (
        "Search name, email, company, record id",
        "이름, 이메일, 회사, 레코드 ID 검색",
        "名前・メール・会社・レコード ID を検索",
        "搜索姓名、邮箱、公司、记录 ID",
    ),
    "rv_band": ("Band", "구간", "判定区分", "区间"),
    "rv_any": ("any", "전체", "すべて", "全部"),
    "rv_source": ("Source", "소스", "ソース", "数据源"),
    "rv_score_min": ("Score from", "점수 최소", "スコア下限", "得分下限"),
    "rv_score_max": ("to", "최대", "上限", "上限"),
    "rv_state": ("Decision", "결정", "判断", "决定"),
    "rv_undecided": ("undecided", "미결정", "未判断", "未决定"),
    "rv_decided": ("decided", "결정됨", "判断済み", "已决定"),
    "rv_approved": ("approved", "승인됨", "承認済み", "已批准"),
    "rv_rejected": ("rejected", "거부됨", "却下済み", "已拒绝"),
    "rv_split_state": ("split", "분리됨", "分割", "已拆分"),
    "rv_guard": (
        "Guard / evidence against",
        "가드 / 반대 근거",
        "ガード / 反対の根拠",
        "防护 / 反对证据",
    ),
    "rv_sort": ("Sort", "정렬", "並べ替え", "排序"),
    "rv_sort_default": ("review band first", "검토 구간 먼저", "要確認を先に", "待审核优先"),
    "rv_sort_score_asc": ("lowest score first", "낮은 점수 먼저", "スコアの低い順", "得分从低到高"),
    "rv_sort_score_desc": (
        "highest score first",
        "높은 점수 먼저",
        "スコアの高い順",
        "得分从高到低",
    ),
    "rv_sort_size": ("largest first", "큰 클러스터 먼저", "大きい順", "规模从大到小"),
    "rv_showing": (
        "{shown} of {total} clusters shown",
        "클러스터 {total}개 중 {shown}개 표시",
        "{total} クラスター中 {shown} 件を表示",
        "显示 {total} 个聚类中的 {shown} 个",
    ),
    "rv_page": (
        "page {page} of {pages}",
        "{pages}쪽 중 {page}쪽",
        "{page} / {pages} ページ",
        "第 {page} / {pages} 页",
    ),
    "rv_prev": ("Previous", "이전", "前へ", "上一页"),
    "rv_next": ("Next", "다음", "次へ", "下一页"),
    "rv_counts": (
        "{n} of {total} decided ({approve} approved, {reject} rejected, {split} split)",
        "{total}개 중 {n}개 결정 (승인 {approve}, 거부 {reject}, 분리 {split})",
        "{total} 件中 {n} 件判断済み (承認 {approve}、却下 {reject}、分割 {split})",
        "已决定 {n} / {total} (批准 {approve}，拒绝 {reject}，拆分 {split})",
    ),
    "rv_bulk_approve": (
        "Approve all shown",
        "표시된 항목 모두 승인",
        "表示中をすべて承認",
        "批准所有显示项",
    ),
    "rv_bulk_reject": (
        "Reject all shown",
        "표시된 항목 모두 거부",
        "表示中をすべて却下",
        "拒绝所有显示项",
    ),
    "rv_bulk_clear": (
        "Clear shown",
        "표시된 항목 결정 취소",
        "表示中の判断を消去",
        "清除显示项的决定",
    ),
    "rv_confirm_approve": (
        "Approve {n} clusters?",
        "클러스터 {n}개를 승인할까요?",
        "{n} 件のクラスターを承認しますか?",
        "批准 {n} 个聚类?",
    ),
    "rv_confirm_reject": (
        "Reject {n} clusters?",
        "클러스터 {n}개를 거부할까요?",
        "{n} 件のクラスターを却下しますか?",
        "拒绝 {n} 个聚类?",
    ),
    "rv_confirm_clear": (
        "Clear the decisions of {n} clusters?",
        "클러스터 {n}개의 결정을 취소할까요?",
        "{n} 件のクラスターの判断を消去しますか?",
        "清除 {n} 个聚类的决定?",
    ),
    "rv_download_json": (
        "Download decisions (JSON)",
        "결정 내려받기 (JSON)",
        "判断をダウンロード (JSON)",
        "下载决定 (JSON)",
    ),
    "rv_download_csv": (
        "Download decisions (CSV)",
        "결정 내려받기 (CSV)",
        "判断をダウンロード (CSV)",
        "下载决定 (CSV)",
    ),
    "rv_undo": ("Undo", "실행 취소", "元に戻す", "撤销"),
    "rv_keys": (
        "Keys: j/n next, k/p previous, a approve, r reject, s split, 1-9 tick a record to split "
        "off, u undo, / search",
        "단축키: j/n 다음, k/p 이전, a 승인, r 거부, s 분리, 1-9 분리할 레코드 선택, u 실행 취소, "
        "/ 검색",
        "キー: j/n 次、k/p 前、a 承認、r 却下、s 分割、1-9 分割するレコードを選択、u 元に戻す、"
        "/ 検索",
        "快捷键：j/n 下一个，k/p 上一个，a 批准，r 拒绝，s 拆分，1-9 勾选要拆出的记录，u 撤销，"
        "/ 搜索",
    ),
    "rv_cluster": ("Cluster", "클러스터", "クラスター", "聚类"),
    "rv_check_people": (
        "Check: {n} different personal emails, two people? merge apply leaves it unless you "
        "approve it",
        "확인: 서로 다른 개인 이메일 {n}개, 두 사람일까요? 승인하지 않으면 merge apply가 "
        "병합하지 않습니다",
        "確認: 異なる個人メール {n} 件、別の二人では? 承認しない限り merge apply は統合しません",
        "请检查: {n} 个不同的个人邮箱, 是两个人吗? 未经批准 merge apply 不会合并",
    ),
    "rv_records": ("{n} records", "레코드 {n}개", "レコード {n} 件", "{n} 条记录"),
    "rv_approve_merge": ("Approve merge", "병합 승인", "統合を承認", "批准合并"),
    "rv_reject": ("Reject", "거부", "却下", "拒绝"),
    "rv_split": ("Split", "분리", "分割", "拆分"),
    "rv_split_hint": (
        "Split: tick the records to keep out of this merge.",
        "분리: 이 병합에서 뺄 레코드를 선택하세요.",
        "分割: この統合から外すレコードにチェックを入れてください。",
        "拆分：勾选要排除在此次合并之外的记录。",
    ),
    "rv_split_off": ("split off", "분리", "分割する", "拆出"),
    "rv_field": ("field", "필드", "フィールド", "字段"),
    "rv_golden": ("proposed golden", "제안된 대표 레코드", "統合後の値 (案)", "建议的主记录"),
    "rv_survivor": ("survivor", "대표", "残すレコード", "保留记录"),
    "rv_row": ("row", "행", "行", "行"),
    "rv_from": (
        "from {who} · {rule}",
        "출처 {who} · {rule}",
        "{who} から · {rule}",
        "来自 {who} · {rule}",
    ),
    "rv_losing": (
        "losing values kept",
        "채택되지 않은 값 보존",
        "採用されなかった値を保持",
        "保留未采用的值",
    ),
    "rv_survivor_by": (
        "Survivor {id} chosen by {rule}.",
        "대표 레코드 {id}, 선택 기준: {rule}.",
        "残すレコード {id} (選択基準: {rule})。",
        "保留记录 {id}，依据：{rule}。",
    ),
    "rv_why": (
        "Why they matched (per-field weights)",
        "일치 근거 (필드별 가중치)",
        "一致した理由 (フィールド別の重み)",
        "匹配原因 (各字段权重)",
    ),
    "rv_no_pairs": (
        "No pair details were recorded for this cluster.",
        "이 클러스터에는 쌍 세부 정보가 기록되지 않았습니다.",
        "このクラスターにはペアの詳細が記録されていません。",
        "此聚类未记录记录对详情。",
    ),
    "rv_empty": (
        "No duplicate clusters were proposed in this run.",
        "이번 실행에서 제안된 중복 클러스터가 없습니다.",
        "この実行では重複クラスターは提案されませんでした。",
        "本次运行未提出重复聚类。",
    ),
    "rv_no_match": (
        "No cluster matches these filters.",
        "조건에 맞는 클러스터가 없습니다.",
        "条件に一致するクラスターはありません。",
        "没有符合筛选条件的聚类。",
    ),
    "rv_same": ("same {fields}", "{fields} 동일", "{fields} が一致", "{fields} 相同"),
    "rv_similar": ("{field} {level}", "{field} {level}", "{field} {level}", "{field} {level}"),
    "rv_against": ("differs: {fields}", "불일치: {fields}", "不一致: {fields}", "不一致：{fields}"),
    "rv_and": (" and ", ", ", "、", "、"),
    "rv_score": ("score", "점수", "スコア", "得分"),
    "lvl_exact": ("exact", "일치", "一致", "一致"),
    "lvl_close": ("close", "유사", "類似", "相近"),
    "lvl_far": ("different", "다름", "相違", "不同"),
    "lvl_nickname": ("nickname", "애칭", "愛称", "昵称"),
    "lvl_same_local": (
        "same mailbox name",
        "같은 메일 계정명",
        "同じメールアカウント名",
        "邮箱用户名相同",
    ),
    "lvl_tail": ("same last digits", "끝자리 같음", "末尾の数字が同じ", "尾号相同"),
    "lvl_shared": ("shared number", "공용 번호", "共有番号", "共用号码"),
    "lvl_one_edit": ("one character apart", "한 글자 차이", "1 文字違い", "相差一个字符"),
    "lvl_mid": ("partly similar", "부분 유사", "一部類似", "部分相似"),
}


# dimension and band names are words of sentences too: the message catalogue holds them
_LABELS.update({k.split(".", 1)[1]: v for k, v in _words("dim.").items()})  # type: ignore[misc]
_LABELS.update({f"rv_band_{k.split('.', 1)[1]}": v for k, v in _words("band.").items()})  # type: ignore[misc]


def labels(language: str = "en") -> dict[str, str]:
    """Every label in `language` (unknown languages fall back to English)."""
    i = LANGUAGES.index(language) if language in LANGUAGES else 0
    return {k: (v[i] or v[0]) for k, v in _LABELS.items()}


def label_keys() -> list[str]:
    return sorted(_LABELS)
