"""tracker.pipeline.clean on real snippets of the two seed documents, and its properties."""

import re
from functools import cache
from pathlib import Path

import opencc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.pipeline import clean as cleaning
from tracker.pipeline.clean import clean, convert
from tracker.pipeline.read import decode
from tracker.pipeline.types import Repair

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
PINYIN_ANNOTATION = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


@cache
def seed(name: str) -> str:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    return decode(path.read_bytes(), path.name)


@cache
def cleaned(name: str):
    return clean(seed(name))


def from_000(snippet: str) -> str:
    """A snippet copied from seed 000, checked to be really there."""
    assert snippet in seed("000")
    return snippet


def from_003(snippet: str) -> str:
    assert snippet in seed("003")
    return snippet


def kinds(result) -> list[str]:
    return [repair.kind for repair in result.repairs]


def repairs_of(result, kind: str) -> list:
    return [repair for repair in result.repairs if repair.kind == kind]


@cache
def t2s():
    return opencc.OpenCC("t2s")


BYLINE = "民政部辦公廳(國(guó)際合作司)主任(司長(zhǎng)) 李???/p>"


# --- HTML ---------------------------------------------------------------------------------


def test_tag_fragment_at_the_end_of_the_byline_is_removed():
    result = clean(from_000(BYLINE))
    assert result.text == "民政部办公厅(国际合作司)主任(司长) 李□□□"
    [html] = repairs_of(result, "html")
    assert "/p>" in html.before and "/p>" not in html.after
    assert html.line == 1


def test_tags_become_paragraph_breaks_and_entities_become_characters():
    result = clean("<p>推动&ldquo;三服务&rdquo;工作。<br/>加强<b>自身</b>建设。</p>")
    assert result.text == "推动“三服务”工作。\n加强自身建设。"
    assert kinds(result).count("html") == 7


def test_non_breaking_space_entity_becomes_a_space_then_goes_as_a_stray_space():
    result = clean("民政&nbsp;工作")
    assert result.text == "民政工作"
    assert kinds(result) == ["html", "space"]


def test_angle_brackets_that_are_not_tags_are_kept():
    text = "月收入<5000元且a>b的家庭。"
    assert clean(text).text == text


# --- pinyin ------------------------------------------------------------------------------


def test_pinyin_glued_after_characters_is_stripped_and_reported():
    result = clean(from_000("辦公廳(國(guó)際司)作為綜合服務(wù)司局"))
    assert result.text == "办公厅(国际司)作为综合服务司局"
    pinyin = repairs_of(result, "pinyin")
    assert [(p.before, p.after) for p in pinyin] == [
        ("公廳(國(guó)際司)作", "公廳(國際司)作"),
        ("綜合服務(wù)司局", "綜合服務司局"),
    ]


def test_seed_000_has_443_pinyin_annotations():
    assert len(repairs_of(cleaned("000"), "pinyin")) == 443


def test_annotation_inside_a_real_parenthetical_goes_but_the_parenthetical_stays():
    assert clean("主任(司長(zhǎng))").text == "主任(司长)"


def test_neutral_tone_pinyin_is_stripped_after_a_character_with_that_reading():
    assert clean("我們(men)的(de)工作").text == "我们的工作"


@pytest.mark.parametrize(
    "text",
    [
        from_003("加强村(社区)党组织"),
        from_003("探索推行社会公众列席乡镇(街道)会议制度"),
        from_003("村规民约(居民公约)修订"),
        from_003("供养服务场所(敬老院)转型"),
        from_003("干部队伍。(州民政局供稿)"),
        "国内生产总值(GDP)增长",
        "第三条(a)项",  # "a" is a syllable, but not a reading of 条
        "请见附件(de)",  # nor "de" a reading of 件
    ],
)
def test_real_parentheticals_are_kept(text):
    result = clean(text)
    assert result.text == text
    assert result.repairs == []


# --- lost characters and mojibake --------------------------------------------------------

BOOK = "也是近年來部黨組在持續(xù)推進(jìn)的首要工作?!渡钊雽W(xué)習(xí)習(xí)近平關(guān)于民政工作的重要論述》一書的出版"
NEI = "持續(xù)優(yōu)化部?jī)?nèi)議事協(xié)調(diào)機(jī)制"
ZHI = "打造忠誠(chéng)干凈擔(dān)當(dāng)?shù)母咚刭|(zhì)專業(yè)化干部隊(duì)伍"


def test_book_title_shifted_by_a_lost_high_bit_is_restored():
    result = clean(from_000(BOOK))
    assert "工作。《深入学习习近平关于民政工作的重要论述》一书" in result.text
    [mojibake] = repairs_of(result, "mojibake")
    assert "?!渡钊雽W" in mojibake.before and "《深入學" in mojibake.after
    assert mojibake.guess is False  # one byte fix decodes, and (xué) confirms 學
    [lost] = repairs_of(result, "lost_char")
    assert (lost.after, lost.guess) == ("。", True)  # the full stop is an inference


def test_lost_character_is_chosen_by_its_surviving_pinyin_and_debris_dropped():
    result = clean(from_000(NEI))
    assert result.text == "持续优化部内议事协调机制"
    [lost] = repairs_of(result, "lost_char")
    assert "部?jī)?nèi)議事" in lost.before
    assert (lost.after, lost.guess) == ("內", True)


def test_run_shifted_by_a_lost_lead_byte_is_restored_with_the_commonest_lead():
    result = clean(from_000(ZHI))
    assert result.text == "打造忠诚干净担当的高素质专业化干部队伍"
    [mojibake] = repairs_of(result, "mojibake")
    assert "?shù)母咚刭|" in mojibake.before and "的高素質" in mojibake.after
    assert mojibake.guess is True  # (zhì) proves 質, but the lead byte of 的 is a guess
    assert repairs_of(result, "lost_char") == []


def test_unrecoverable_lost_characters_become_boxes_reported_as_certain():
    result = clean(from_000(BYLINE))
    lost = repairs_of(result, "lost_char")
    assert [(r.line, r.after, r.guess) for r in lost] == [(1, "□", False)] * 3
    assert all("李???" in r.before for r in lost)


def test_all_three_damaged_spots_of_seed_000_are_reported():
    result = cleaned("000")
    assert [(r.after, r.guess) for r in repairs_of(result, "lost_char")] == [
        ("□", False),
        ("□", False),
        ("□", False),
        ("。", True),
        ("內", True),
    ]
    assert [r.guess for r in repairs_of(result, "mojibake")] == [False, True]


def test_lone_question_mark_is_punctuation_not_damage():
    text = "这是为什么?我们要回答。"
    result = clean(text)
    assert result.text == text
    assert result.repairs == []


def test_garbled_run_without_a_pinyin_witness_is_not_guessed():
    result = clean("首要工作?!渡钊雽W习近平")
    assert "mojibake" not in kinds(result)
    assert "?!渡钊雽W" in result.text


# --- simplified characters ---------------------------------------------------------------


def test_traditional_text_becomes_simplified_with_one_summary_report():
    result = clean("辦公廳作為綜合服務司局")
    assert result.text == "办公厅作为综合服务司局"
    assert repairs_of(result, "t2s") == [Repair("t2s", 1, "5 个繁体字", "5 个简体字")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (from_000("連著民心"), "连着民心"),
        (from_000("起著特殊重要作用"), "起着特殊重要作用"),
        (from_000("著力增強"), "着力增强"),
        (from_000("一絲不茍"), "一丝不苟"),
        ("在工作中起著作用", "在工作中起着作用"),
        ("隨著改革深入", "随着改革深入"),
    ],
)
def test_characters_opencc_leaves_are_fixed_and_reported_one_by_one(text, expected):
    result = clean(text)
    assert result.text == expected
    assert len(repairs_of(result, "variant")) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("成效顯著", "成效显著"),
        ("保護著作權", "保护著作权"),
        ("著名學者", "著名学者"),
        ("臭名昭著", "臭名昭著"),
        ("成績卓著", "成绩卓著"),
        ("發揮顯著作用", "发挥显著作用"),
    ],
)
def test_real_zhu_stays(text, expected):
    result = clean(text)
    assert result.text == expected
    assert repairs_of(result, "variant") == []


def test_simplified_text_needs_no_conversion():
    assert "t2s" not in kinds(cleaned("003"))


# --- lines -------------------------------------------------------------------------------


def test_hard_wrapped_lines_of_seed_003_are_joined():
    text = cleaned("003").text
    assert "对新征程上民政工作和民政事业的高度重视,展现了" in text
    assert "坚持以党建引领基本民生保障、基层社会治理" in text
    assert "民政工作理念与党的根本宗旨" in text
    assert "人人享有的社会治理共同体,才能不断促进社会和谐稳定" in text
    assert "社会慈善组织“五社联动”机制。" in text
    assert "落实公益慈善激励扶持政策" in text
    assert "积极推进“放管服”改革和区、州优化营商环境系列决策部署" in text
    assert len(repairs_of(cleaned("003"), "wrap")) == 8


def test_wrap_is_reported_with_the_line_it_was_found_on():
    paragraph = from_003(
        "党的二十大报告从全方位、多领域、深层次对民政工作作出系列安排部署,提出具体措施要求,"
        "充分体现了党中央对新征程上民政工作和民政事业的高\n\n度重视,展现了"
    )
    [wrap] = repairs_of(clean(f"标题\n\n{paragraph}"), "wrap")
    assert (wrap.line, wrap.before, wrap.after) == (3, "事业的高↵度重视,", "事业的高度重视,")


def test_headings_and_title_stay_on_their_own_lines():
    lines = cleaned("003").text.split("\n")
    headings = [
        "在建设推进中国式现代化新疆实践的典范地州中贡献民政力量",
        "领悟核心要义",
        "精准定位新时代民政工作的职责使命",
        "坚持学思践悟",
        "奋力推进新时代自治州民政事业高质量发展",
        "强化党建引领",
        "为推动自治州民政事业高质量发展提供坚强保证",
    ]
    assert [line for line in lines if len(line) < 30] == headings
    assert lines[lines.index("领悟核心要义") + 2].startswith("深刻领悟民政工作的政治属性。")


def test_clean_text_is_one_paragraph_per_line():
    for name in ("000", "003"):
        lines = cleaned(name).text.split("\n")
        assert all(line and line == line.strip() for line in lines)
    assert len(cleaned("003").text.split("\n")) == 20  # title, preamble, 3 × (2 + 4)


def test_space_before_a_paragraph_marker_becomes_a_paragraph_break():
    lines = cleaned("000").text.split("\n")
    assert [line[:2] for line in lines[2:]] == ["一要", "二要", "三要", "四要"]
    breaks = [r for r in repairs_of(cleaned("000"), "space") if "↵" in r.after]
    assert len(breaks) == 4


def test_short_line_without_final_punctuation_is_not_joined():
    assert clean("领悟核心要义\n精准定位新时代民政工作的职责使命").text.count("\n") == 1


def test_line_starting_with_a_comma_continues_the_one_before():
    assert clean("持续推进\n,不断提升。").text == "持续推进,不断提升。"


def test_letter_spaced_text_is_squeezed_in_one_report():
    result = clean("民 政 工 作 关 系 民 生 。")
    assert result.text == "民政工作关系民生。"
    [space] = repairs_of(result, "space")
    assert space.after == "民政工作关系民生。"


def test_space_after_an_ascii_comma_in_chinese_text_goes():
    result = clean("坚持统筹发展和安全, 坚持发扬“严真细实快”的工作作风。")
    assert result.text == "坚持统筹发展和安全,坚持发扬“严真细实快”的工作作风。"
    [space] = repairs_of(result, "space")
    assert (space.before, space.after) == ("和安全, 坚持发扬", "和安全,坚持发扬")


def test_space_after_a_bracket_in_the_byline_is_kept():
    assert clean("主任(司长) 李某").text == "主任(司长) 李某"


def test_wrapped_latin_words_keep_a_space():
    text = (
        "推动落实联合国二〇三〇年可持续发展议程的有关工作,加强与国际组织和各国政府及 United\n"
        "Nations 的合作。"
    )
    assert "United Nations" in clean(text).text


# --- doubled words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (from_003("加强党风廉政建设建设和反腐败工作。"), "加强党风廉政建设和反腐败工作。"),
        (from_003("加强民政干部队伍队伍建设。"), "加强民政干部队伍建设。"),
        (
            "习近平新时代中国特色社会主义思想主义思想、新时代",
            "习近平新时代中国特色社会主义思想、新时代",
        ),
    ],
)
def test_doubled_words_collapse_and_are_reported(text, expected):
    result = clean(text)
    assert result.text == expected
    assert kinds(result) == ["doubled"]


def test_word_doubled_across_a_wrap_is_collapsed():
    text = cleaned("003").text
    assert "习近平新时代中国特色社会主义思想、新时代党的治疆方略" in text
    assert "主义思想主义思想" not in text


@pytest.mark.parametrize(
    "text",
    [
        "深入学习习近平总书记重要论述。",
        "人人有责、人人尽责、人人享有。",
        "一个一个地落实。",
        "我们研究研究。",
    ],
)
def test_real_reduplications_are_kept(text):
    result = clean(text)
    assert result.text == text
    assert result.repairs == []


# --- the whole seeds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["000", "003"])
def test_cleaning_a_seed_twice_changes_nothing_and_reports_nothing(name):
    again = clean(cleaned(name).text)
    assert again.text == cleaned(name).text
    assert again.repairs == []


def test_seed_000_is_clean_and_reads_naturally():
    text = cleaned("000").text
    assert not PINYIN_ANNOTATION.search(text)
    assert t2s().convert(text) == text  # no character left that t2s would convert
    assert "?" not in text
    assert not re.search(r"[<>]|&\w+;|/p", text)
    assert "办公厅(国际司)" in text
    assert text.startswith("民政部办公厅(国际合作司)主任(司长) 李□□□\n")
    for phrase in (
        "连着民心",
        "起着特殊重要作用",
        "着力增强",
        "一丝不苟",
        "工作。《深入学习习近平关于民政工作的重要论述》一书",
        "部内议事",
        "担当的高素质专业化",
    ):
        assert phrase in text


def test_seed_003_keeps_its_parentheticals():
    text = cleaned("003").text
    for phrase in ("村(社区)", "(敬老院)", "(州民政局供稿)", "乡镇(街道)", "(居民公约)"):
        assert phrase in text


# --- properties --------------------------------------------------------------------------

chinese_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from("。,、;:?!“”《》()?,.;:()\uff0c\uff1b\uff1a\uff1f\uff01\uff08\uff09"),
        st.sampled_from(" \n\u3000"),
    ),
    max_size=120,
)
# Words that exercise the steps together: doubling, 着/著, question marks, paragraph markers.
phrases = st.lists(
    st.sampled_from(
        [
            "建设",
            "队伍",
            "学习",
            "习近平",
            "人人",
            "思想",
            "主义",
            "連著",
            "著作",
            "顯著",
            "?",
            "??",
        ]
        + ["。", ",", " ", "\n", "\n\n", "一要", "(社区)", "民政工作关系民生连着民心" * 3]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(st.one_of(chinese_text, phrases))
def test_cleaning_is_idempotent(text):
    once = clean(text)
    twice = clean(once.text)
    assert twice.text == once.text
    assert twice.repairs == []


@settings(max_examples=150, deadline=None)
@given(st.one_of(chinese_text, phrases))
def test_cleaning_never_drops_chinese_it_does_not_report(text):
    result = clean(text)
    kept = set(result.text) | set("".join(repair.before for repair in result.repairs))
    for char in set(HAN.findall(text)):
        assert char in kept or t2s().convert(char) in kept


# --- tables ---------------------------------------------------------------------------------


def test_tabs_of_a_pasted_table_are_kept_and_rows_never_joined():
    text = (
        "2024年重点任务分工表\n"
        "序号 \t 重点任务\t牵头单位\t完成时限\t\n"
        "1\t推进医养结合，提升失能老年人照护服务能力，完善服务体系建设内容\t市卫生健康委\t年底前\n"
        "\t\t市民政局\n"
    )
    assert clean(text).text == (
        "2024年重点任务分工表\n"
        "序号\t重点任务\t牵头单位\t完成时限\n"
        "1\t推进医养结合，提升失能老年人照护服务能力，完善服务体系建设内容\t市卫生健康委\t年底前\n"
        "\t\t市民政局"
    )


def test_a_category_line_between_rows_keeps_the_table_together():
    text = "序号\t任务\t牵头单位\n一、民生保障\n1\t完善制度\t市民政局\n"
    assert clean(text).text == "序号\t任务\t牵头单位\n一、民生保障\n1\t完善制度\t市民政局"


def test_a_lone_line_with_a_tab_is_a_paragraph_and_its_tab_a_stray_space():
    result = clean("加强养老\t服务。\n完善制度。")
    assert result.text == "加强养老服务。\n完善制度。"


def test_a_space_before_a_marker_inside_a_cell_stays_in_the_row():
    text = "序号\t措施\t牵头单位\n1\t完善制度。 二是健全机制。\t市民政局"
    assert clean(text).text == text.replace("。 二", "。二")


def test_closing_cell_tags_of_a_copied_html_table_become_tabs():
    text = "<table><tr><td>序号</td><td>任务</td></tr><tr><td>1</td><td>完善制度</td></tr></table>"
    assert clean(text).text == "序号\t任务\n1\t完善制度"


# --- hard wraps of any width -----------------------------------------------------------------

WRAPPED_27 = (
    "临江市困难群众基本生活保障工作任务分工方案\n"
    "一、强化基本生活救助\n"
    "1.完善最低生活保障制度。健全低保对象认定办法，将符合\n"
    "条件的低收入家庭中的重度残疾人、重病患者等特殊困难人员\n"
    "按规定纳入低保范围，实行单人保。（市民政局牵头，市残联、\n"
    "市卫生健康委按职责分工负责）\n"
    "2.做好特困人员救助供养。对符合条件的特困人员应救尽救，\n"
    "落实分散供养特困人员委托照料服务，8月底前完成照料服务\n"
    "协议签订工作。（市民政局负责）\n"
    "3.加强临时救助。对遭遇突发性、紧迫性、灾难性困难的家\n"
    "庭和个人及时给予临时救助。\n"
    "（市教育局、市住房城乡建设局牵头，市民政局配合）\n"
    "4.落实医疗救助政策。做好低保对象、特困人员等参加城乡\n"
    "居民基本医疗保险个人缴费资助工作。\n"
)


def test_a_document_wrapped_at_27_characters_is_joined_and_its_short_lines_kept():
    lines = clean(WRAPPED_27).text.split("\n")
    assert lines[:2] == ["临江市困难群众基本生活保障工作任务分工方案", "一、强化基本生活救助"]
    assert lines[2].startswith("1.完善最低生活保障制度。") and lines[2].endswith("按职责分工负责）")
    assert lines[3].startswith("2.做好") and lines[3].endswith("（市民政局负责）")
    assert lines[5] == "（市教育局、市住房城乡建设局牵头，市民政局配合）"
    assert lines[6].startswith("4.落实医疗救助政策。")
    assert len(lines) == 7


def test_a_long_unit_note_never_glues_the_next_item_onto_its_line():
    note = "（牵头单位：市发展改革委；配合单位：市财政局、市民政局、市自然资源和规划局、各县（市、区）人民政府）"
    text = f"1.建设县级综合养老服务平台{note}\n2.新建社区老年食堂\n"
    assert clean(text).text.split("\n") == [
        f"1.建设县级综合养老服务平台{note}",
        "2.新建社区老年食堂",
    ]


def test_a_line_is_never_joined_onto_a_label_line_or_a_numbered_item():
    text = "1.推进智慧养老服务平台建设，完善平台功能，实现数据共享共用和服务\n牵头单位：市民政局\n"
    assert clean(text).text.count("\n") == 1
    text = "一、加强养老服务体系建设推进居家社区机构相协调医养康养相结合\n（一）完善服务网络\n"
    assert clean(text).text.count("\n") == 1


def test_seeds_keep_the_fixed_width_rule():
    assert len(repairs_of(cleaned("003"), "wrap")) == 8


# --- Taiwan vocabulary -----------------------------------------------------------------------


def test_taiwan_style_text_gets_mainland_vocabulary():
    text = "推動網際網路最佳化，按程式公佈資訊，依託資料共享平臺。"
    assert clean(text).text == "推动互联网优化，按程序公布信息，依托数据共享平台。"


def test_a_single_taiwan_word_is_not_enough_to_switch():
    assert clean("完善資訊公開制度。").text == "完善资讯公开制度。"


@pytest.mark.parametrize("name", ["000", "003"])
def test_mainland_traditional_seeds_come_out_exactly_as_plain_t2s_gives(name):
    from tracker.pipeline.clean import is_taiwan_style, to_simplified

    text = seed(name)
    assert not is_taiwan_style(text)
    assert to_simplified(text)[0] == t2s().convert(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["序号", "\t", "\n", "市民政局", "完善制度。", " ", "一、民生", "1", "\t\t", "。 二是"]
        ),
        max_size=30,
    ).map("".join)
)
# A line with only a trailing tab after a table used to be kept as a row, then read as no row
# once its tab was trimmed, and the line after it changed on the second pass.
@example("序号\t序号\n序号\t序号\n序号\t\n\t序号")
def test_cleaning_tables_is_idempotent(text):
    once = clean(text)
    twice = clean(once.text)
    assert twice.text == once.text
    assert twice.repairs == []


# The quick scans find what their plain definitions find ---------------------------------

# Each scan starts with its first character and looks behind from there; its plain
# definition starts with the lookbehind.
SPACES = "[ \u3000\xa0]+"
PLAIN_SCANS = {
    "_ANNOTATIONS": rf"(?<=[{cleaning.HAN}])(?:{cleaning._ONE_ANNOTATION})+",
    "_PARAGRAPH_BREAK": (
        rf"(?<=[{cleaning._SENTENCE_END}{cleaning._CLAUSE_END}]){SPACES}"
        rf"(?={cleaning._PARAGRAPH_MARKER})"
    ),
    "_STRAY_SPACE": (
        rf"(?:(?<=[{cleaning._CHINESE}])|(?<=[{cleaning.HAN}][,;:!?])){SPACES}"
        rf"(?=[{cleaning._CHINESE}])"
    ),
    "_HTML": (
        r"(?is)<!--.*?-->"
        rf"|</?(?P<tag>{cleaning._BLOCK_TAGS}|{cleaning._INLINE_TAGS})\b[^<>]*>"
        rf"|(?<![<\w])/(?P<fragment>{cleaning._BLOCK_TAGS}|{cleaning._INLINE_TAGS})>"
        r"|&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});"
    ),
}
SCANNED = st.lists(
    st.sampled_from(
        [
            "國",
            "領",
            "中",
            "。",
            "；",
            ",",
            "a",
            "1",
            " ",
            "\u3000",
            "\xa0",
            "\t",
            "(",
            "（",
            ")",
            "）",
            "guó",
            "lǐn",
            "ü",
            "一要",
            "二是",
            "（三）",
            "4、",
            "，",
            "<",
            ">",
            "/",
            "p>",
            "/td>",
            "<br",
            "&nbsp;",
            "<!--",
            "-->",
        ]
    ),
    max_size=40,
).map("".join)


@given(SCANNED)
@settings(max_examples=500, deadline=None)
def test_quick_scans_find_what_their_plain_definitions_find(text):
    for name, plain in PLAIN_SCANS.items():
        found = [m.span() for m in getattr(cleaning, name).finditer(text)]
        assert found == [m.span() for m in re.finditer(plain, text)], name


# The quick conversion is OpenCC's conversion -------------------------------------------

MIXED = (
    "國務院關於進一步加強養老服務體系建設的意見乾燥乾隆著名著作後來头发頭髮里裡面"
    "网络網際網路最佳化程式软件軟體资讯資訊的一是在不了有和人这中大为上个"
    # Phrases that change only as a whole (反覆 → 反复) and their characters' own uses.
    "反覆思量瞭如指掌藉口沈默衹得回覆覆盖了解沈阳字型硬碟建立文件"
    "，。、；：？！“”（）《》 \n\t-.,1234abcXYZ"
)


@given(st.text(alphabet=MIXED, max_size=200))
@settings(max_examples=300, deadline=None)
def test_quick_conversion_equals_opencc_on_any_mix(text):
    for config in ("t2s", "tw2sp"):
        assert convert(config, text) == opencc.OpenCC(config).convert(text)


def test_quick_conversion_equals_opencc_on_a_mainland_text_it_leaves_alone():
    text = "覆盖全面的救助体系，了解困难群众的需求，沈阳市民政局负责。"
    assert convert("t2s", text) == opencc.OpenCC("t2s").convert(text) == text


def test_quick_conversion_equals_opencc_on_traditional_copies_of_the_seeds_and_corpus():
    # Every stretch has characters to convert, and phrases (反覆, 網際網路) among them.
    paths = [*SEEDS.glob("*.txt"), *(Path(__file__).parent / "corpus").glob("*.txt")]
    to_traditional = opencc.OpenCC("s2t")
    for path in paths:
        text = to_traditional.convert(decode(path.read_bytes(), path.name))
        for config in ("t2s", "tw2sp"):
            assert convert(config, text) == opencc.OpenCC(config).convert(text), path.name


def test_quick_conversion_equals_opencc_on_the_seeds_and_the_corpus():
    paths = [*SEEDS.glob("*.txt"), *(Path(__file__).parent / "corpus").glob("*.txt")]
    assert len(paths) >= 10
    reference = opencc.OpenCC("t2s")
    for path in paths:
        text = decode(path.read_bytes(), path.name)
        assert convert("t2s", text) == reference.convert(text), path.name
