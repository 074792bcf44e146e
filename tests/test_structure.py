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


# --- outlines of task-division documents ---------------------------------------------------------


def all_measures(result):
    return [m for top in result.sections for _, s in top.walk() for m in s.measures]


def test_a_numbered_heading_with_a_comma_is_a_heading_not_a_measure():
    text = "一、坚持守正创新，推动救助服务全链条优化\n1.完善低保制度。\n"
    result = outline(text)
    assert result.sections[0].title == "一、坚持守正创新，推动救助服务全链条优化"
    assert [m.text for m in all_measures(result)] == ["1.完善低保制度。"]


def test_short_tasks_without_a_full_stop_at_the_deepest_level_are_measures():
    text = (
        "一、养老服务\n"
        "（一）完善养老服务体系\n"
        "1.加快构建养老服务体系。\n"
        "（1）强化机构养老兜底保障\n"
        "（2）强化居家社区养老\n"
        "2.推进养老机构等级评定。\n"
        "3.推进救助管理机构标准化建设\n"
    )
    texts = [m.text for m in all_measures(outline(text))]
    assert texts == [
        "（1）强化机构养老兜底保障",
        "（2）强化居家社区养老",
        "2.推进养老机构等级评定。",
        "3.推进救助管理机构标准化建设",
    ]


def test_an_item_with_numbered_children_is_their_heading():
    text = "（一）社会救助\n2.深化社会救助综合改革。\n（1）推进一门受理\n（2）强化急难救助\n"
    [group] = outline(text).sections[0].sections
    assert (group.title, [m.text for m in group.measures]) == (
        "2.深化社会救助综合改革",
        ["（1）推进一门受理", "（2）强化急难救助"],
    )


def test_two_digit_items_and_items_starting_with_a_digit():
    text = "（五）民生实事\n" + "".join(f"{n}.第{n}个项目。\n" for n in range(1, 12))
    text += "12.365热线服务项目。\n13.婚姻登记项目。\n"
    texts = [m.text for m in all_measures(outline(text))]
    assert texts[-3:] == ["11.第11个项目。", "12.365热线服务项目。", "13.婚姻登记项目。"]


def test_a_decimal_at_the_start_of_a_paragraph_is_not_an_item_number():
    assert structure.outline_marker("1.5万元补贴按时发放。") is None
    assert structure.outline_marker("2.12个乡镇敬老院提质改造。", previous_item=1).form == "1."


def test_yi_yao_er_yao_inside_one_paragraph_are_separate_measures():
    text = "二、重点工作\n今年重点抓好三个方面。一要兜牢民生底线。健全救助体系。二要补齐养老短板。三要提升治理效能。\n"
    texts = [m.text for m in all_measures(outline(text))]
    assert texts == ["一要兜牢民生底线。健全救助体系。", "二要补齐养老短板。", "三要提升治理效能。"]


def test_parenthesised_numbers_inside_one_paragraph_are_separate_measures():
    text = "一、重点任务\n（三）加强队伍建设。（1）开展培训；（2）完善激励机制；（3）加强考核。\n"
    texts = [m.text for m in all_measures(outline(text))]
    assert texts == ["（1）开展培训；", "（2）完善激励机制；", "（3）加强考核。"]


def test_section_intros_and_breakdown_preambles_are_never_measures():
    text = (
        "实施方案\n"
        "现将2024年民生实事项目分解如下：\n"
        "一、养老服务提升行动\n"
        "（一）居家养老服务提升行动计划。围绕养老服务圈，实施如下重点项目：\n"
        "1.新建社区嵌入式养老服务中心4个。（县民政局负责）\n"
    )
    result = outline(text)
    assert [m.text for m in all_measures(result)] == [
        "1.新建社区嵌入式养老服务中心4个。（县民政局负责）"
    ]
    [intro] = result.sections[0].sections
    assert intro.title == "（一）居家养老服务提升行动计划"


NOTICE = (
    "临江市人民政府办公室关于印发任务分工方案的通知\n"
    "临政办发〔2024〕9号\n"
    "各县（市、区）人民政府，市政府各部门：\n"
    "现将《任务分工方案》印发给你们，各牵头单位要于每季度末报送进展，请认真贯彻落实。\n"
    "临江市人民政府办公室\n"
    "2024年4月8日\n"
    "（此件公开发布）\n"
    "一、强化基本生活救助\n"
    "1.完善最低生活保障制度。（市民政局负责）\n"
    "附件：任务清单\n"
    "联系人：王敏，电话：0716-8123456\n"
    "抄送：市委办公室。\n"
)


def test_notice_headers_and_footers_are_neither_sections_nor_measures():
    result = outline(NOTICE)
    assert result.title == "临江市人民政府办公室关于印发任务分工方案的通知"
    assert [s.title for s in result.sections] == ["一、强化基本生活救助"]
    assert [m.text for m in all_measures(result)] == ["1.完善最低生活保障制度。（市民政局负责）"]


def test_labelled_lines_attach_to_the_item_above_and_make_a_short_line_a_task():
    text = (
        "一、重点项目\n"
        "1.推进智慧养老平台建设\n"
        "牵头单位：市工业和信息化局\n"
        "责任单位：市民政局\n"
        "完成时限：2024年底前\n"
        "2.新建老年食堂10个。\n"
        "牵头单位：市民政局\n"
    )
    first, second = all_measures(outline(text))
    assert (first.text, first.lead_units, first.co_units) == (
        "1.推进智慧养老平台建设",
        ["市工业和信息化局"],
        ["市民政局"],
    )
    assert (first.deadline, first.deadline_text) == (date(2024, 12, 31), "2024年底前")
    assert (
        first.units_text == "牵头单位：市工业和信息化局；责任单位：市民政局；完成时限：2024年底前"
    )
    assert (second.text, second.lead_units) == ("2.新建老年食堂10个。", ["市民政局"])


def test_a_note_on_its_own_line_belongs_to_the_item_above():
    text = (
        "一、任务\n1.落实困难家庭学生资助政策。\n（市教育局牵头，市民政局配合）\n2.加强就业救助。\n"
    )
    first, second = all_measures(outline(text))
    assert (first.lead_units, first.co_units) == (["市教育局"], ["市民政局"])
    assert second.lead_units == []


def test_an_item_with_a_trailing_note_is_one_measure_with_the_notes_units():
    text = (
        "一、社会救助\n"
        "1.提高低保标准。城乡低保标准提高到每人每月820元。年底前全部达标。"
        "（牵头单位：市财政局，配合单位：市民政局、各有关单位）\n"
    )
    [m] = all_measures(outline(text))
    assert m.text.startswith("1.提高低保标准。") and m.text.endswith("各有关单位）")
    assert (m.title, m.lead_units, m.co_units) == (
        "提高低保标准",
        ["市财政局"],
        ["市民政局", "各有关单位"],
    )
    assert m.units_text == "（牵头单位：市财政局，配合单位：市民政局、各有关单位）"


def test_a_note_deadline_wins_over_a_date_in_the_text():
    text = "一、任务\n1.盘活存量设施。2024年6月底前完成摸底。（市民政局牵头；完成时限：2024年9月底前）\n"
    [m] = all_measures(outline(text))
    assert (m.deadline, m.deadline_text) == (date(2024, 9, 30), "2024年9月底前")


def test_a_long_term_note_has_no_date_on_purpose():
    text = "一、任务\n1.加强综合监管。（市市场监管局牵头，市民政局配合；长期坚持）\n"
    [m] = all_measures(outline(text))
    assert (m.deadline, m.deadline_text, m.long_term) == (None, "长期坚持", True)


def test_measures_inherit_the_note_of_their_heading():
    text = "（一）健全救助体系（牵头单位：市民政局）\n1.完善低保制度。\n2.健全临时救助。\n"
    assert [m.lead_units for m in all_measures(outline(text))] == [["市民政局"], ["市民政局"]]
