"""Which sentences become measures, their titles, topics and deadlines, and the ledger
the two seed documents must produce (docs: /work/shared/spec/seed-ledger.md)."""

import re
from datetime import date

import pytest
from opencc import OpenCC

from tracker.pipeline import parse_document
from tracker.pipeline.extract import build_outline, find_deadline, measure_title, topics_of

from .conftest import SEED_000, SEED_003, TODAY


def outline(text, today=TODAY):
    return build_outline(text, today=today)


def all_measures(result):
    return [m for top in result.sections for _, s in top.walk() for m in s.measures]


def measure_texts(result):
    return [m.text for m in all_measures(result)]


# --- context is never a measure ------------------------------------------------------------


def test_quotes_slogans_and_commentary_in_a_key_task_are_never_measures():
    text = (
        "加强党的建设。民心是最大的政治。打铁还需自身硬。江山就是人民,人民就是江山。"
        "习近平总书记指出,要坚持以人民为中心。党的二十大报告指出:“健全基层群众自治机制。”"
        "这就要求我们必须提高站位。只有持续健全机制,才能促进和谐稳定。"
        "健全基层党组织,开展学习教育。\n"
    )
    assert measure_texts(outline(text)) == ["健全基层党组织,开展学习教育。"]


def test_news_boilerplate_is_never_a_measure():
    text = (
        "本报讯(记者 王明)3月5日,市民政局召开会议。会议强调,要加强组织领导。"
        "未经允许不得转载。\n(市民政局供稿)\n"
    )
    assert measure_texts(outline(text)) == ["会议强调,要加强组织领导。"]


def test_the_preamble_before_an_enumeration_is_context():
    text = "一、加强督查\n我们要充分认识督查工作的重要意义,提高站位。一是健全机制。二是压实责任。\n"
    assert measure_texts(outline(text)) == ["一是健全机制。", "二是压实责任。"]


def test_the_last_item_stops_before_a_closing_comment():
    text = "一、加强督查\n一是健全机制。二是压实责任,按期办结。这些措施很关键。\n"
    assert measure_texts(outline(text))[-1] == "二是压实责任,按期办结。"


def test_a_paragraph_that_only_tells_a_story_has_no_measures():
    assert all_measures(outline("今天天气很好。我们去公园散步。")) == []


# --- speech summaries -----------------------------------------------------------------------


def test_yao_sentences_of_a_speech_summary_become_measures():
    text = (
        "市民政局召开全市民政工作会议。会议指出,民政工作关系民生、连着民心。"
        "会议强调,要切实加强组织领导,压实工作责任。要抓好养老服务体系建设。"
        "各级民政部门要强化督查督办,确保各项任务落到实处。主要任务是补齐短板。\n"
    )
    result = outline(text)
    assert measure_texts(result) == [
        "会议强调,要切实加强组织领导,压实工作责任。",
        "要抓好养老服务体系建设。",
        "各级民政部门要强化督查督办,确保各项任务落到实处。",
    ]
    assert [m.title for m in all_measures(result)] == [
        "切实加强组织领导",
        "抓好养老服务体系建设",
        "强化督查督办",
    ]


def test_measures_before_any_heading_get_a_section_named_after_the_document():
    result = outline("全市民政工作会议召开\n会议强调,要加强组织领导。\n")
    assert [(s.kind, s.title) for s in result.sections] == [("heading", "全市民政工作会议召开")]


# --- sentence grouping in key tasks -----------------------------------------------------------


def test_a_sentence_that_only_states_the_purpose_joins_the_action_before_it():
    text = (
        "加强养老服务。完善居家养老服务网络,扩大服务供给。使老年人获得感更足。"
        "建设区域性养老服务中心。\n"
    )
    result = outline(text)
    assert measure_texts(result) == [
        "完善居家养老服务网络,扩大服务供给。使老年人获得感更足。",
        "建设区域性养老服务中心。",
    ]
    for m in all_measures(result):
        assert text[m.start : m.end] == m.text


def test_a_purpose_sentence_with_no_action_before_it_stands_alone():
    # A target after commentary is still a target someone must meet (and may carry a deadline).
    text = "加强养老服务。民心是最大的政治。确保年底前建成养老服务中心。\n"
    assert measure_texts(outline(text)) == ["确保年底前建成养老服务中心。"]


# --- titles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("一是协助部党组健全“第一议题”制度,推动学习更加及时。", "协助部党组健全“第一议题”制度"),
        ("首先,要开展专项督查。", "开展专项督查"),
        ("1.建立工作台账,明确责任分工。", "建立工作台账"),
        ("会议强调,要切实加强组织领导,压实责任。", "切实加强组织领导"),
        ("围绕增进民生福祉,不断健全社会救助格局。", "不断健全社会救助格局"),
        (
            "牢固树立“全面从严治党永远在路上,党的自我革命永远在路上”思想不动摇,落实两个责任。",
            "牢固树立“全面从严治党永远在路上,党的自我革命永远在路上”思想不动摇",
        ),
        ("构建四级未成年人保护体系;保障合法权益。", "构建四级未成年人保护体系"),
    ],
)
def test_title_is_the_action_clause_without_its_marker(text, title):
    assert measure_title(text) == title


def test_a_long_clause_is_cut_to_40_characters_and_marked():
    text = (
        "科学有序、积极稳妥推进建设以智慧救助、儿童福利院、救助站为引领的社会救助体系"
        "以及以基层党群服务中心和社工站为依托的社会治理体系,推动发展。"
    )
    title = measure_title(text)
    assert len(title) == 40 and title.endswith("…") and text.startswith(title[:-1])


def test_a_cut_never_leaves_a_quote_open():
    text = "推进建设以智慧救助、儿童福利院、救助站为引领的社会救助体系和“覆盖机构、社区、居家的多点互动”服务。"
    title = measure_title(text)
    assert title == "推进建设以智慧救助、儿童福利院、救助站为引领的社会救助体系…"
    assert len(title) <= 40


# --- topics ------------------------------------------------------------------------------------


def test_a_measure_gets_every_topic_whose_keyword_it_contains():
    assert topics_of("完善居家社区养老服务网络,健全低保动态管理机制。") == ["养老服务", "社会救助"]
    assert topics_of("一是做好殡葬改革宣传。") == ["殡葬", "宣传"]
    assert topics_of("完善民政信访工作制度,有序化解信访积案。") == ["信访"]
    assert topics_of("今天天气很好。") == []
    # keywords that overlap (老年人 and 人才) each count
    assert topics_of("引进老年人才。") == ["养老服务", "干部队伍"]


def test_topics_are_set_on_the_measures():
    (measure,) = all_measures(outline("一、其他\n一是构建四级未成年人保护体系。\n"))
    assert measure.topics == ["未成年人保护"]


# --- deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deadline", "phrase"),
    [
        ("2020年底前实现全覆盖", date(2020, 12, 31), "2020年底前"),
        ("2020年年底前实现全覆盖", date(2020, 12, 31), "2020年年底前"),
        ("2024年6月底前完成布局", date(2024, 6, 30), "2024年6月底前"),
        ("6月底前完成年度复核", date(2026, 6, 30), "6月底前"),
        ("年内完成总结", date(2026, 12, 31), "年内"),
        ("年底前完成改造", date(2026, 12, 31), "年底前"),
        ("3月15日前报送进展", date(2026, 3, 15), "3月15日前"),
        ("2025年3月15日前报送进展", date(2025, 3, 15), "2025年3月15日前"),
        ("第三季度末前完成", date(2026, 9, 30), "第三季度末前"),
        ("三季度末完成", date(2026, 9, 30), "三季度末"),
        ("持续推进重复信访治理", None, ""),
        ("13月底前完成", None, ""),
    ],
)
def test_explicit_time_phrases_become_deadlines(text, deadline, phrase):
    assert find_deadline(text, 2026) == (deadline, phrase)


def test_end_of_february_respects_leap_years():
    assert find_deadline("2月底前完成", 2024) == (date(2024, 2, 29), "2月底前")


def test_a_month_without_a_year_takes_the_year_of_the_documents_date():
    text = "2025年3月5日,市民政局召开会议。会议要求,要在6月底前完成低保复核。\n"
    (measure,) = all_measures(outline(text))
    assert (measure.deadline, measure.deadline_phrase) == (date(2025, 6, 30), "6月底前")


def test_a_year_in_the_title_dates_a_plan_without_a_date():
    text = (
        "关于做好2027年养老服务工作的实施方案\n一、重点任务\n一是年内建成服务中心。二是完善网络。\n"
    )
    measures = all_measures(outline(text))
    assert measures[0].deadline == date(2027, 12, 31)
    assert measures[1].deadline is None


def test_an_undated_document_takes_todays_year():
    (measure,) = all_measures(outline("一、其他\n一是6月底前完成复核。\n", today=date(2030, 1, 2)))
    assert measure.deadline == date(2030, 6, 30)


# --- the seed ledger (spec: seed-ledger.md), through the whole pipeline ------------------------


@pytest.fixture(scope="module")
def doc000():
    return parse_document(SEED_000.read_bytes(), SEED_000.name, today=date(2026, 11, 22))


@pytest.fixture(scope="module")
def doc003():
    return parse_document(SEED_003.read_bytes(), SEED_003.name, today=date(2026, 11, 22))


# Per section, per measure: phrases that must all be in that measure's text.
SPEC_000 = [
    (
        "一要深刻把握民政工作政治属性",
        [
            ["协助部党组健全“第一议题”制度"],
            ["协助抓好重要指示批示的督促落实", "闭环办理", "回头看"],
            ["协助完善部机关相关运行制度", "部内议事协调机制"],
            ["协助抓好党中央、国务院重大会议、重要文件的学习贯彻"],
        ],
    ),
    (
        "二要始终围绕中心、服务大局",
        [
            ["积极发挥参谋助手作用"],
            ["优化运转服务保障"],
            ["推进国际和港澳台地区交流合作"],
            ["推进统筹发展和安全", "安全管理治本攻坚三年行动"],
        ],
    ),
    (
        "三要坚持站稳人民立场",
        [
            ["做好建议提案办理工作"],
            ["深化", "主题宣传"],
            ["完善民政信访工作制度", "有序化解信访积案"],
        ],
    ),
    (
        "四要从严落实管党治党政治责任",
        [
            ["坚持以政治建设为统领", "担当的高素质专业化"],
            ["着力加强作风建设", "一丝不苟"],
            ["坚决履行全面从严治党主体责任"],
        ],
    ),
]

SPEC_003 = [
    (
        "领悟核心要义",
        "精准定位新时代民政工作的职责使命",
        [
            ("深刻领悟民政工作的政治属性", []),
            ("深刻领悟民政工作的人民属性", []),
            ("深刻领悟民政工作的社会属性", []),
            ("深刻领悟民政工作的时代属性", []),
        ],
    ),
    (
        "坚持学思践悟",
        "奋力推进新时代自治州民政事业高质量发展",
        [
            (
                "稳步提高基本民生保障水平",
                [
                    ["社会救助格局", "“8+1+N”", "社会救助体系"],
                    ["临时救助", "低保审批权限下放", "智慧救助", "兜牢民生底线"],
                    ["四级未成年人保护体系"],
                    ["公益慈善", "流浪乞讨人员救助", "使人民群众获得感"],
                ],
            ),
            (
                "不断增强基层社会治理实效",
                [
                    ["党组织对社会治理工作的统一领导", "“五社联动”机制"],
                    ["社会组织培育扶持"],
                    ["社会工作服务和人才队伍", "“三治融合”"],
                ],
            ),
            (
                "持续提升基本社会服务质量",
                [
                    ["养老事业和养老产业协同发展"],
                    ["一刻钟养老服务圈", "区域性养老服务中心"],
                    ["公益慈善激励扶持政策", "行政区划", "婚育新风", "殡葬改革"],
                ],
            ),
            (
                "加快完善民政事业基层基础",
                [
                    ["“十四五”民政项目储备库"],
                    ["彩票公益金", "专项资金管理", "绩效评价"],
                    ["智慧救助、儿童福利院、救助站", "重点项目建设"],
                ],
            ),
        ],
    ),
    (
        "强化党建引领",
        "为推动自治州民政事业高质量发展提供坚强保证",
        [
            ("加强党对民政工作的领导", [["坚持“民政部门首先是政治部门", "“两个维护”"]]),
            (
                "加强基层组织建设",
                [
                    ["党的组织路线", "多种形式", "学习教育"],
                    ["党的组织领导体系", "“五个好”党支部"],
                    ["社会组织党的建设有效覆盖"],
                ],
            ),
            (
                "加强党风廉政建设和反腐败工作",
                [
                    ["党风廉政建设“两个责任”"],
                    ["中央八项规定", "“放管服”", "优化营商环境"],
                    ["巡视巡察和审计反馈问题整改"],
                ],
            ),
            (
                "加强民政干部队伍建设",
                [
                    ["党管人才", "教育培训"],
                    ["政治标准作为选拔干部", "“绿色通道”", "“访惠聚”"],
                ],
            ),
        ],
    ),
]

NEVER_MEASURES = (
    "民心是最大的政治",
    "打铁还需自身硬",
    "江山就是人民",
    "这就要求",
    "习近平总书记指出",
    "习近平总书记从党的二十大报告中指出",
    "党的二十大报告指出",
    "我们必须",
    "供稿",
)
_PINYIN = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]|\([a-z]+\)")
_T2S = OpenCC("t2s")


def assert_measures_match(section, expected):
    assert len(section.measures) == len(expected), section.title
    for measure, phrases in zip(section.measures, expected, strict=True):
        for phrase in phrases:
            assert phrase in measure.text, (section.title, phrase)


def test_seed_000_has_four_sections_with_4_4_3_3_measures(doc000):
    sections = doc000.outline.sections
    assert [len(s.measures) for s in sections] == [4, 4, 3, 3]
    assert doc000.measure_count() == 14
    for section, (title, expected) in zip(sections, SPEC_000, strict=True):
        assert (section.kind, section.sections) == ("heading", [])
        assert section.title.startswith(title)
        assert_measures_match(section, expected)


def test_seed_000_measure_titles_are_the_spec_clauses(doc000):
    titles = [m.title for s in doc000.outline.sections for m in s.measures]
    assert titles[:4] == [
        "协助部党组健全“第一议题”制度",
        "协助抓好重要指示批示的督促落实",
        "协助完善部机关相关运行制度",
        "协助抓好党中央、国务院重大会议、重要文件的学习贯彻",
    ]
    assert titles[-3:] == [
        "坚持以政治建设为统领",
        "着力加强作风建设",
        "坚决履行全面从严治党主体责任",
    ]


def test_seed_000_metadata_names_the_office_and_a_fallback_title(doc000):
    outline_ = doc000.outline
    assert outline_.organization == "民政部办公厅(国际合作司)"
    assert outline_.author == ""
    assert outline_.title_is_fallback
    assert "深入学习习近平关于民政工作的重要论述" in outline_.title
    assert any("原文无标题行" in note for note in outline_.notes)
    assert any("作者" in note for note in outline_.notes)


def test_seed_003_has_three_headings_twelve_key_tasks_and_the_spec_measures(doc003):
    outline_ = doc003.outline
    assert outline_.title == "在建设推进中国式现代化新疆实践的典范地州中贡献民政力量"
    assert (outline_.title_is_fallback, outline_.organization) == (False, "州民政局")
    assert len(outline_.sections) == 3
    for heading, (title, subtitle, key_tasks) in zip(outline_.sections, SPEC_003, strict=True):
        assert (heading.kind, heading.title, heading.subtitle) == ("heading", title, subtitle)
        assert [(s.kind, s.title) for s in heading.sections] == [
            ("key_task", name) for name, _ in key_tasks
        ]
        for key_task, (_, expected) in zip(heading.sections, key_tasks, strict=True):
            assert key_task.text.startswith(key_task.title + "。")
            assert_measures_match(key_task, expected)


def test_seed_003_counts_13_and_9_under_the_action_headings(doc003):
    per_heading = [[len(s.measures) for s in h.sections] for h in doc003.outline.sections]
    assert per_heading == [[0, 0, 0, 0], [4, 3, 3, 3], [1, 3, 3, 2]]
    assert 22 <= doc003.measure_count() <= 26


@pytest.mark.parametrize("name", ["doc000", "doc003"])
def test_seed_measures_keep_provenance_and_are_clean(name, request):
    parsed = request.getfixturevalue(name)
    measures = all_measures(parsed.outline)
    assert measures
    for m in measures:
        assert parsed.clean_text[m.start : m.end] == m.text
        assert m.title and len(m.title) <= 40 and not m.title.startswith(("一是", "二是"))
        for text in (m.title, m.text):
            assert not _PINYIN.search(text), text
            assert "?" not in text and "<" not in text and "/p>" not in text, text
            assert _T2S.convert(text) == text, text
        assert not any(phrase in m.text for phrase in NEVER_MEASURES), m.text
