# ruff: noqa: E501  (vocabulary, message templates and YAML text read best unwrapped)
"""Name, company and place vocabularies for the demo, in English, Korean, Japanese and Chinese.

Our own lists rather than Faker: Faker's output changes between its releases, and the demo
must give byte-identical files from the same seed on every machine. Each native name carries
its romanization, because real people build their e-mail addresses from it.
"""

from __future__ import annotations

from pathlib import Path

_DATA = Path(__file__).parent / "data"


def _heldout(name: str) -> list[tuple[str, ...]]:
    """Rows of audit/demo/data/heldout_<name>.txt (whitespace-separated; # lines are comments)."""
    text = (_DATA / f"heldout_{name}.txt").read_text(encoding="utf-8")
    return [tuple(line.split()) for line in text.splitlines() if line and not line.startswith("#")]


LOCALES = ("en", "ko", "ja", "zh")
LOCALE_WEIGHTS = (0.36, 0.30, 0.20, 0.14)
COUNTRY = {"en": "US", "ko": "KR", "ja": "JP", "zh": "CN"}
COUNTRY_NAME = {"US": "United States", "KR": "South Korea", "JP": "Japan", "CN": "China"}
CALLING_CODE = {"US": "1", "KR": "82", "JP": "81", "CN": "86"}

# (native, romanized)
EN_FIRST = [
    ("James", "james"), ("Mary", "mary"), ("Robert", "robert"), ("Patricia", "patricia"),
    ("John", "john"), ("Jennifer", "jennifer"), ("Michael", "michael"), ("Linda", "linda"),
    ("William", "william"), ("Elizabeth", "elizabeth"), ("David", "david"), ("Barbara", "barbara"),
    ("Richard", "richard"), ("Susan", "susan"), ("Joseph", "joseph"), ("Jessica", "jessica"),
    ("Thomas", "thomas"), ("Sarah", "sarah"), ("Charles", "charles"), ("Karen", "karen"),
    ("Christopher", "christopher"), ("Nancy", "nancy"), ("Daniel", "daniel"), ("Lisa", "lisa"),
    ("Matthew", "matthew"), ("Margaret", "margaret"), ("Anthony", "anthony"), ("Sandra", "sandra"),
    ("Andrew", "andrew"), ("Ashley", "ashley"), ("Joshua", "joshua"), ("Kimberly", "kimberly"),
    ("Steven", "steven"), ("Emily", "emily"), ("Kenneth", "kenneth"), ("Donna", "donna"),
    ("Benjamin", "benjamin"), ("Michelle", "michelle"), ("Samuel", "samuel"), ("Katherine", "katherine"),
    ("Gregory", "gregory"), ("Rebecca", "rebecca"), ("Alexander", "alexander"), ("Amanda", "amanda"),
    ("Patrick", "patrick"), ("Stephanie", "stephanie"), ("Nicholas", "nicholas"), ("Victoria", "victoria"),
    ("Jonathan", "jonathan"), ("Abigail", "abigail"), ("Timothy", "timothy"), ("Olivia", "olivia"),
    ("Edward", "edward"), ("Sophia", "sophia"), ("Ronald", "ronald"), ("Megan", "megan"),
]  # fmt: skip
EN_LAST = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Campbell", "Mitchell", "Carter", "Roberts", "Phillips", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "O'Brien", "McDonald", "MacLeod",
    "Sullivan", "Bennett", "Foster", "Hughes",
]  # fmt: skip
# Nicknames people use on a business card or in a mail signature: held-out pairs from a public
# list that the matcher's own table (rules/match/nicknames.yaml) does not ship.
NICKNAMES = {given.capitalize(): nick.capitalize() for given, nick in _heldout("nicknames")}

KO_FAMILY = [
    ("김", "kim"), ("이", "lee"), ("박", "park"), ("최", "choi"), ("정", "jung"), ("강", "kang"),
    ("조", "cho"), ("윤", "yoon"), ("장", "jang"), ("임", "lim"), ("한", "han"), ("오", "oh"),
    ("서", "seo"), ("신", "shin"), ("권", "kwon"), ("황", "hwang"), ("안", "ahn"), ("송", "song"),
    ("류", "ryu"), ("홍", "hong"),
]  # fmt: skip
# weights: Kim, Lee and Park are about 45% of Koreans
KO_FAMILY_WEIGHTS = [21, 15, 8, 5, 5, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
KO_GIVEN = [
    ("민준", "minjun"), ("서연", "seoyeon"), ("지훈", "jihoon"), ("서윤", "seoyun"),
    ("도윤", "doyun"), ("지우", "jiwoo"), ("예준", "yejun"), ("하은", "haeun"), ("시우", "siwoo"),
    ("지민", "jimin"), ("현우", "hyunwoo"), ("수빈", "subin"), ("준서", "junseo"), ("지유", "jiyu"),
    ("건우", "gunwoo"), ("채원", "chaewon"), ("우진", "woojin"), ("다은", "daeun"),
    ("성민", "sungmin"), ("은지", "eunji"), ("동현", "donghyun"), ("수진", "sujin"),
    ("영호", "youngho"), ("미경", "mikyung"), ("정훈", "junghoon"), ("혜진", "hyejin"),
    ("재원", "jaewon"), ("유진", "yujin"), ("상훈", "sanghoon"), ("지현", "jihyun"),
    ("태현", "taehyun"), ("소연", "soyeon"), ("승현", "seunghyun"), ("나연", "nayeon"),
    ("준호", "junho"), ("민지", "minji"), ("경수", "kyungsoo"), ("보람", "boram"),
    ("똠", "ttom"), ("한결", "hangyeol"),
]  # fmt: skip

JA_FAMILY = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("渡辺", "watanabe"), ("伊藤", "ito"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("清水", "shimizu"), ("髙橋", "takahashi"),
    ("斎藤", "saito"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"),
]  # fmt: skip
JA_GIVEN = [
    ("翔", "sho"), ("蓮", "ren"), ("大翔", "hiroto"), ("陽菜", "hina"), ("結衣", "yui"),
    ("美咲", "misaki"), ("健太", "kenta"), ("拓也", "takuya"), ("直樹", "naoki"), ("由美", "yumi"),
    ("恵子", "keiko"), ("誠", "makoto"), ("裕子", "yuko"), ("大輔", "daisuke"),
    ("さくら", "sakura"), ("花子", "hanako"), ("太郎", "taro"), ("一郎", "ichiro"),
    ("明美", "akemi"), ("浩二", "koji"), ("真由美", "mayumi"), ("剛", "tsuyoshi"),
    ("彩", "aya"), ("亮", "ryo"), ("千尋", "chihiro"), ("翼", "tsubasa"), ("愛", "ai"),
    ("隆", "takashi"), ("舞", "mai"), ("悠斗", "yuto"),
]  # fmt: skip

ZH_FAMILY = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("欧阳", "ouyang"),
]  # fmt: skip
ZH_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("秀英", "xiuying"), ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"),
    ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀兰", "xiulan"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂英", "guiying"), ("建华", "jianhua"), ("志强", "zhiqiang"),
    ("晓明", "xiaoming"), ("婷婷", "tingting"), ("浩然", "haoran"), ("子涵", "zihan"),
    ("雨欣", "yuxin"),
]  # fmt: skip

NAMES = {
    "en": (EN_FIRST, [(s, s.lower().replace("'", "")) for s in EN_LAST]),
    "ko": (KO_GIVEN, KO_FAMILY),
    "ja": (JA_GIVEN, JA_FAMILY),
    "zh": (ZH_GIVEN, ZH_FAMILY),
}

# Company names are built as <stem><kind>; (native, romanized) for the e-mail domain.
COMPANY_STEMS = {
    "en": [
        ("Acme", "acme"), ("Northwind", "northwind"), ("Globex", "globex"),
        ("Initech", "initech"), ("Blue Harbor", "blueharbor"), ("Pinecrest", "pinecrest"),
        ("Silverline", "silverline"), ("Redwood", "redwood"), ("Brightpath", "brightpath"),
        ("Summit", "summit"), ("Ironbridge", "ironbridge"), ("Lakeside", "lakeside"),
        ("Oakridge", "oakridge"), ("Crescent", "crescent"), ("Evergreen", "evergreen"),
        ("Falcon", "falcon"), ("Granite", "granite"), ("Horizon", "horizon"),
        ("Keystone", "keystone"), ("Maple Leaf", "mapleleaf"), ("Nimbus", "nimbus"),
        ("Orchard", "orchard"), ("Pioneer", "pioneer"), ("Quantum", "quantum"),
        ("Riverstone", "riverstone"), ("Sterling", "sterling"), ("Trident", "trident"),
        ("Vertex", "vertex"), ("Westfield", "westfield"), ("Zenith", "zenith"),
    ],
    "ko": [
        ("한빛", "hanbit"), ("누리", "nuri"), ("가온", "gaon"), ("새솔", "saesol"),
        ("다온", "daon"), ("푸른들", "pureundeul"), ("별빛", "byeolbit"), ("소담", "sodam"),
        ("한결", "hangyeol"), ("마루", "maru"), ("온누리", "onnuri"), ("하늘", "haneul"),
        ("미리내", "mirinae"), ("늘품", "neulpum"), ("아름", "areum"), ("다솜", "dasom"),
        ("세움", "seum"), ("한울", "hanul"), ("그린", "green"), ("대한", "daehan"),
    ],
    "ja": [
        ("サクラ", "sakura"), ("青葉", "aoba"), ("富士見", "fujimi"), ("東雲", "shinonome"),
        ("みなと", "minato"), ("北斗", "hokuto"), ("若葉", "wakaba"), ("大和", "yamato"),
        ("光陽", "koyo"), ("浜風", "hamakaze"), ("朝日", "asahi"), ("白鷺", "shirasagi"),
        ("三河", "mikawa"), ("紀州", "kishu"), ("常盤", "tokiwa"), ("瑞穂", "mizuho"),
        ("桜井", "sakurai"), ("日向", "hyuga"), ("八雲", "yakumo"), ("銀河", "ginga"),
    ],
    "zh": [
        ("华信", "huaxin"), ("东方", "dongfang"), ("金桥", "jinqiao"), ("星海", "xinghai"),
        ("瑞丰", "ruifeng"), ("长城", "changcheng"), ("云帆", "yunfan"), ("宏达", "hongda"),
        ("天衡", "tianheng"), ("博远", "boyuan"), ("恒通", "hengtong"), ("盛世", "shengshi"),
        ("新元", "xinyuan"), ("汇智", "huizhi"), ("明德", "mingde"), ("嘉禾", "jiahe"),
        ("鼎盛", "dingsheng"), ("中科", "zhongke"), ("远景", "yuanjing"), ("佳联", "jialian"),
    ],
}  # fmt: skip
COMPANY_KINDS = {
    "en": [
        (" Analytics", "analytics"), (" Software", "software"), (" Logistics", "logistics"),
        (" Partners", "partners"), (" Labs", "labs"), (" Foods", "foods"), (" Systems", "systems"),
        (" Health", "health"), (" Media", "media"), (" Energy", "energy"), (" Capital", "capital"),
        (" Design", "design"), (" Robotics", "robotics"), (" Retail", "retail"),
        (" Consulting", "consulting"), (" Networks", "networks"), (" Motors", "motors"),
        (" Studios", "studios"), (" Supply", "supply"), (" Learning", "learning"),
    ],
    "ko": [
        ("테크", "tech"), ("네트웍스", "networks"), ("물산", "trading"), ("정보", "info"),
        ("바이오", "bio"), ("식품", "food"), ("디자인", "design"), ("커머스", "commerce"),
        ("건설", "const"), ("시스템", "system"), ("소프트", "soft"), ("에너지", "energy"),
        ("제약", "pharm"), ("로지스", "logis"), ("미디어", "media"), ("랩스", "labs"),
    ],
    "ja": [
        ("精機", "seiki"), ("システム", "system"), ("商事", "shoji"), ("テクノロジー", "tech"),
        ("物流", "logi"), ("ソリューションズ", "solutions"), ("フーズ", "foods"),
        ("データ", "data"), ("電機", "denki"), ("デザイン", "design"), ("工業", "kogyo"),
        ("製薬", "pharma"), ("建設", "kensetsu"), ("ネットワークス", "networks"),
        ("メディア", "media"),
    ],
    "zh": [
        ("科技", "tech"), ("物流", "logistics"), ("贸易", "trade"), ("软件", "soft"),
        ("食品", "food"), ("数据", "data"), ("网络", "net"), ("电子", "elec"), ("咨询", "consult"),
        ("教育", "edu"), ("医药", "pharma"), ("能源", "energy"), ("传媒", "media"),
        ("建设", "build"), ("智能", "smart"),
    ],
}  # fmt: skip
# Legal forms as they are written: the first is the form the company registered, the others
# are how colleagues type it. "{}" is the name.
LEGAL_FORMS = {
    "en": ["{} Inc.", "{} LLC", "{} Ltd.", "{} Corp.", "{} Co."],
    "ko": ["(주){}", "주식회사 {}", "{} 주식회사", "㈜{}", "{}(주)"],
    "ja": ["株式会社{}", "{}株式会社", "(株){}", "㈱{}", "有限会社{}"],
    "zh": ["{}有限公司", "{}股份有限公司", "上海{}有限公司", "{}（北京）有限公司"],
}
# variants of the registered form that a duplicate may carry (index into LEGAL_FORMS)
LEGAL_VARIANTS = {
    "en": {"{} Inc.": ["{}, Inc.", "{} Incorporated", "{}"], "{} LLC": ["{}, LLC", "{} L.L.C."]},
    "ko": {"(주){}": ["주식회사 {}", "㈜{}", "{}"], "주식회사 {}": ["(주){}", "{} 주식회사"]},
    "ja": {"株式会社{}": ["(株){}", "㈱{}", "{}"], "{}株式会社": ["{}(株)", "{}"]},
    "zh": {"{}有限公司": ["{}", "{}公司"], "{}股份有限公司": ["{}有限公司", "{}"]},
}
COMPANY_TLD = {"en": ".com", "ko": ".co.kr", "ja": ".co.jp", "zh": ".com.cn"}
PERSONAL_DOMAINS = {
    "en": ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com"],
    "ko": ["naver.com", "gmail.com", "daum.net", "hanmail.net", "kakao.com", "nate.com"],
    "ja": ["gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com", "ezweb.ne.jp"],
    "zh": ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com"],
}

JOB_TITLES = {
    "en": ["CEO", "CTO", "VP Sales", "Marketing Manager", "Account Manager", "Engineer",
           "Operations Director", "Buyer", "Product Manager", "Office Manager"],
    "ko": ["대표이사", "이사", "부장", "차장", "과장", "대리", "사원", "팀장", "연구원", "실장"],
    "ja": ["代表取締役", "部長", "課長", "係長", "主任", "営業担当", "エンジニア", "取締役", "マネージャー"],
    "zh": ["总经理", "副总经理", "销售经理", "市场总监", "工程师", "采购经理", "产品经理", "行政主管"],
}  # fmt: skip

# (region or city, district, street, postal prefix) per locale
ADDRESSES = {
    "en": [
        ("San Francisco", "CA", "Market St", "941"), ("New York", "NY", "Broadway", "100"),
        ("Seattle", "WA", "Pine St", "981"), ("Austin", "TX", "Congress Ave", "787"),
        ("Boston", "MA", "Boylston St", "021"), ("Chicago", "IL", "Wacker Dr", "606"),
        ("Denver", "CO", "Larimer St", "802"), ("Atlanta", "GA", "Peachtree St", "303"),
    ],
    "ko": [
        ("서울특별시", "강남구", "테헤란로", "06"), ("서울특별시", "마포구", "월드컵북로", "03"),
        ("서울특별시", "송파구", "올림픽로", "05"), ("서울특별시", "서초구", "서초대로", "06"),
        ("부산광역시", "해운대구", "센텀중앙로", "48"), ("경기도", "성남시 분당구", "판교역로", "13"),
        ("인천광역시", "연수구", "송도과학로", "21"), ("대전광역시", "유성구", "대학로", "34"),
    ],
    "ja": [
        ("東京都", "渋谷区", "神南", "150"), ("東京都", "千代田区", "丸の内", "100"),
        ("東京都", "港区", "六本木", "106"), ("大阪府", "大阪市北区", "梅田", "530"),
        ("愛知県", "名古屋市中村区", "名駅", "450"), ("福岡県", "福岡市博多区", "博多駅前", "812"),
        ("神奈川県", "横浜市西区", "みなとみらい", "220"), ("京都府", "京都市下京区", "烏丸通", "600"),
    ],
    "zh": [
        ("上海市", "浦东新区", "世纪大道", "2001"), ("北京市", "朝阳区", "建国路", "1000"),
        ("深圳市", "南山区", "科技园路", "5180"), ("广州市", "天河区", "天河路", "5106"),
        ("杭州市", "西湖区", "文三路", "3100"), ("成都市", "武侯区", "天府大道", "6100"),
    ],
}  # fmt: skip

# Our own sales and support team (record owners, deal owners, ticket assignees).
REPS = [
    ("Emily Carter", "emily.carter"), ("김지현", "jihyun.kim"), ("佐藤 健", "ken.sato"),
    ("王磊", "lei.wang"), ("Michael Brown", "michael.brown"), ("이준호", "junho.lee"),
    ("田中 美咲", "misaki.tanaka"), ("陈静", "jing.chen"),
]  # fmt: skip
REP_HOME = ["en", "ko", "ja", "zh", "en", "ko", "ja", "zh"]
AGENTS = [("Grace Kim", "grace.kim"), ("Daniel Park", "daniel.park"), ("Yuki Mori", "yuki.mori")]
OUR_DOMAIN = "asterglobal.com"
OUR_COMPANY = "Aster Global Inc."

LEAD_SOURCES = [
    "Organic Search", "Paid Search", "Email Marketing", "Organic Social", "Paid Social",
    "Referrals", "Offline Sources", "Direct Traffic",
]  # fmt: skip
LEAD_SOURCE_WEIGHTS = [0.22, 0.16, 0.12, 0.1, 0.08, 0.14, 0.1, 0.08]

# Planted bad values (see truth/README.md). They come from public lists the detectors do not ship
# (audit/demo/data/heldout_*.txt, each citing its source), so the demo's figures measure the
# detectors on values they were not built from; tests/test_demo_heldout.py keeps it that way.
DISPOSABLE_DOMAINS = [d for (d,) in _heldout("disposable_domains")]
ROLE_LOCALS = [r for (r,) in _heldout("role_locals")]
TYPO_DOMAINS: dict[str, list[str]] = {}
for _typo, _meant in _heldout("typo_domains"):
    TYPO_DOMAINS.setdefault(_meant, []).append(_typo)
