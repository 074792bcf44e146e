"""Reading a document's shape: numbering forms, headings and subtitles, key-task leads,
title, organisation and author. Small inline snippets, no database."""

from datetime import date

from tracker.pipeline import structure
from tracker.pipeline.extract import build_outline

TODAY = date(2026, 11, 22)


def outline(text):
    return build_outline(text, today=TODAY)


def tree(sections):
    """(kind, title, measure count, children) for every section, to compare shapes."""
    return [(s.kind, s.title, len(s.measures), tree(s.sections)) for s in sections]


def span(text):
    return structure.Span(0, len(text), text)


def measure_texts(section):
    return [m.text for m in section.measures]


# --- numbering forms --------------------------------------------------------------------


def test_chinese_numbered_headings_nest_parenthesised_subheadings_and_numbered_items():
    text = (
        "一、加强组织领导\n"
        "(一)健全工作机制\n"
        "1.建立工作台账,明确责任分工。\n"
        "2、定期调度工作进展。\n"
        "(二)压实工作责任\n"
        "1.签订目标责任书。\n"
        "二、强化督促检查\n"
        "(一)开展专项督查\n"
        "1.每季度开展一次督查。\n"
    )
    assert tree(outline(text).sections) == [
        (
            "heading",
            "一、加强组织领导",
            0,
            [
                ("heading", "(一)健全工作机制", 2, []),
                ("heading", "(二)压实工作责任", 1, []),
            ],
        ),
        ("heading", "二、强化督促检查", 0, [("heading", "(一)开展专项督查", 1, [])]),
    ]


def test_full_width_parenthesised_numbers_are_subheadings_too():
    text = "一、总体要求\n（一）指导思想\n（二）工作目标\n1．建成一批示范社区。\n"
    top = outline(text).sections[0]
    assert [s.title for s in top.sections] == ["（一）指导思想", "（二）工作目标"]
    assert measure_texts(top.sections[1]) == ["1．建成一批示范社区。"]


def test_parenthesised_arabic_numbers_are_items_under_a_numbered_subheading():
    text = "一、总体要求\n1.工作目标\n(1)建成一批示范社区。\n(2)完善服务网络。\n"
    (target,) = outline(text).sections[0].sections
    assert (target.title, measure_texts(target)) == (
        "1.工作目标",
        ["(1)建成一批示范社区。", "(2)完善服务网络。"],
    )


def test_numbered_items_keep_their_marker_in_the_text_but_not_in_the_title():
    section = outline("(一)健全工作机制\n1.建立工作台账,明确责任分工。\n").sections[0]
    assert section.measures[0].text == "1.建立工作台账,明确责任分工。"
    assert section.measures[0].title == "建立工作台账"


def test_yi_shi_er_shi_items_are_split_at_each_marker():
    text = (
        "一、加强养老服务\n一是完善居家养老服务网络。二是推进设施改造提升。三是加强人才队伍建设。\n"
    )
    assert measure_texts(outline(text).sections[0]) == [
        "一是完善居家养老服务网络。",
        "二是推进设施改造提升。",
        "三是加强人才队伍建设。",
    ]


def test_a_lost_full_stop_before_the_next_marker_still_splits_the_items():
    text = (
        "一、完善养老服务\n"
        "一是健全网络。二是改造设施。三是培养人才。四是提高护理型床位占比到60o五是完善机制。\n"
    )
    texts = measure_texts(outline(text).sections[0])
    assert texts[3:] == ["四是提高护理型床位占比到60o", "五是完善机制。"]


def test_a_word_ending_in_yi_is_not_an_enumeration_marker():
    text = "一、统一思想\n思想统一是前提。一是加强学习。二是统一部署。\n"
    assert measure_texts(outline(text).sections[0]) == ["一是加强学习。", "二是统一部署。"]


def test_a_single_yi_shi_counts_only_when_it_opens_the_paragraph():
    assert len(outline("一、其他\n一是做好殡葬改革宣传。\n").sections[0].measures) == 1
    assert structure.enumerated_items(span("做好宣传,其一是做好宣传。")) == []


def test_shouxian_qici_ciwai_zuihou_enumerate():
    text = (
        "一、强化督查\n"
        "首先,要开展专项督查。其次,要建立通报制度。此外,要加强结果运用。最后,要做好总结。\n"
    )
    titles = [m.title for m in outline(text).sections[0].measures]
    assert titles == ["开展专项督查", "建立通报制度", "加强结果运用", "做好总结"]


def test_ciwai_without_shouxian_is_not_an_enumeration():
    assert structure.enumerated_items(span("此外,要加强结果运用。其次是做好总结。")) == []


def test_yi_yao_paragraphs_open_sections_titled_by_their_first_sentence():
    text = (
        "一要把握政治属性,坚持把政治要求贯穿全过程。民心是最大的政治。一是健全制度。二是抓好落实。\n"
        "二要服务大局,提升工作效能。一是发挥参谋作用。二是优化服务保障。\n"
    )
    sections = outline(text).sections
    assert [(s.kind, s.title) for s in sections] == [
        ("heading", "一要把握政治属性,坚持把政治要求贯穿全过程"),
        ("heading", "二要服务大局,提升工作效能"),
    ]
    assert measure_texts(sections[0]) == ["一是健全制度。", "二是抓好落实。"]
    assert sections[0].text.startswith("一要把握政治属性")


def test_chinese_numeral_values():
    assert [structure.cn_number(n) for n in ("一", "九", "十", "十二", "二十", "二十三")] == [
        1,
        9,
        10,
        12,
        20,
        23,
    ]
    assert structure.cn_number("三三") == -1


# --- sentences ----------------------------------------------------------------------------


def test_a_quote_ending_with_a_full_stop_ends_the_sentence():
    text = (
        "总书记指出:“江山就是人民。守的是人民的心。”这些论述很深刻。要加强学习,做到“学思用贯通”。"
    )
    parts = [s.text for s in structure.sentences(span(text))]
    assert parts == [
        "总书记指出:“江山就是人民。守的是人民的心。”",
        "这些论述很深刻。",
        "要加强学习,做到“学思用贯通”。",
    ]


# --- headings, subtitles, key tasks ----------------------------------------------------------


def test_a_heading_line_followed_by_a_short_line_takes_it_as_its_subtitle():
    text = (
        "文件标题\n"
        "前言段落,说明背景。\n"
        "强化党建引领\n"
        "为推动事业高质量发展提供坚强保证\n"
        "加强基层组织建设。贯彻落实党的组织路线,开展学习教育。\n"
    )
    (heading,) = outline(text).sections
    assert (heading.kind, heading.title, heading.subtitle) == (
        "heading",
        "强化党建引领",
        "为推动事业高质量发展提供坚强保证",
    )
    assert [s.title for s in heading.sections] == ["加强基层组织建设"]


def test_key_task_lead_names_the_section_and_is_not_a_measure():
    text = "一、总体要求\n稳步提高基本民生保障水平。围绕增进民生福祉,健全社会救助格局。构建四级未成年人保护体系,保障合法权益。\n"
    (key_task,) = outline(text).sections[0].sections
    assert (key_task.kind, key_task.title) == ("key_task", "稳步提高基本民生保障水平")
    assert measure_texts(key_task) == [
        "围绕增进民生福祉,健全社会救助格局。",
        "构建四级未成年人保护体系,保障合法权益。",
    ]
    assert key_task.text.startswith("稳步提高基本民生保障水平。")


def test_a_lead_must_be_short_plain_and_start_with_an_action():
    def lead(text):
        found = structure.key_task_lead(span(text))
        return found and found.text

    assert lead("加强基层组织建设。贯彻落实组织路线。") == "加强基层组织建设。"
    assert lead("今天天气很好。我们去公园散步。") is None
    assert lead("民心是最大的政治。要加强学习。") is None
    assert lead("加强学习,提高站位。要加强学习。") is None  # a clause, not a lead
    assert lead("加强基层组织建设。") is None  # nothing follows: not a key task


def test_numbered_key_task_keeps_its_number_in_the_title():
    text = "一、重点任务\n(二)强化督促检查。开展专项督查,通报问题。建立整改台账。\n"
    (key_task,) = outline(text).sections[0].sections
    assert (key_task.kind, key_task.title, len(key_task.measures)) == (
        "key_task",
        "(二)强化督促检查",
        2,
    )


def test_understanding_key_tasks_have_no_measures_and_a_note_says_why():
    text = (
        "领悟核心要义\n"
        "精准定位职责使命\n"
        "深刻领悟民政工作的政治属性。我们必须深刻认识到民政工作事关民心向背,不断提高政治站位。\n"
    )
    result = outline(text)
    (key_task,) = result.sections[0].sections
    assert key_task.kind == "key_task" and key_task.measures == []
    assert key_task.text.startswith("深刻领悟民政工作的政治属性。")
    assert any("思想认识" in note for note in result.notes)


# --- title, organisation, author ---------------------------------------------------------------


def test_title_line_and_organisation_from_a_closing_credit():
    text = "贡献民政力量\n加强基层组织建设。贯彻落实组织路线,开展学习教育。(州民政局供稿)\n"
    result = outline(text)
    assert (result.title, result.title_is_fallback, result.organization) == (
        "贡献民政力量",
        False,
        "州民政局",
    )
    assert measure_texts(result.sections[0]) == ["贯彻落实组织路线,开展学习教育。"]


def test_byline_gives_organisation_and_a_legible_author():
    text = "民政部办公厅(国际合作司)主任(司长) 李明\n一要服务大局。一是发挥参谋作用。二是优化服务保障。\n"
    result = outline(text)
    assert (result.organization, result.author) == ("民政部办公厅(国际合作司)", "李明")


def test_a_lost_author_name_is_left_empty_with_a_note():
    text = "民政部办公厅(国际合作司)主任(司长) 李□□□\n一要服务大局。一是发挥参谋作用。二是优化服务保障。\n"
    result = outline(text)
    assert (result.organization, result.author) == ("民政部办公厅(国际合作司)", "")
    assert any("作者" in note and "李□□□" in note for note in result.notes)


def test_without_a_title_line_the_book_the_text_discusses_is_the_fallback_title():
    text = (
        "民政部办公厅(国际合作司)主任(司长) 李□□□\n"
        "部党组持续推进的首要工作。《深入学习习近平关于民政工作的重要论述》一书的出版意义重大。\n"
        "一要服务大局。一是发挥参谋作用。二是优化服务保障。\n"
    )
    result = outline(text)
    assert result.title == "《深入学习习近平关于民政工作的重要论述》"
    assert result.title_is_fallback
    assert any("原文无标题行" in note and "著作" in note for note in result.notes)


def test_without_title_or_book_the_first_section_is_the_fallback_title():
    result = outline("一、加强组织领导\n一是健全机制。二是压实责任。\n")
    assert (result.title, result.title_is_fallback) == ("一、加强组织领导", True)
    assert any("首个章节" in note for note in result.notes)
