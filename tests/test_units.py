"""tracker.pipeline.units: who does a task, in every form documents name them."""

import pytest

from tracker.pipeline.units import find_notes, label_line_note, parse_note, split_units


def roles(content):
    note = parse_note(content)
    assert note is not None, content
    lead, co = note.resolved()
    return lead, co


@pytest.mark.parametrize(
    ("content", "lead", "co"),
    [
        (
            "牵头单位：市财政局，配合单位：市民政局、各有关单位",
            ["市财政局"],
            ["市民政局", "各有关单位"],
        ),
        ("牵头单位：市民政局；责任单位：市财政局", ["市民政局"], ["市财政局"]),
        ("市民政局牵头，市财政局配合", ["市民政局"], ["市财政局"]),
        ("市民政局牵头，各县（市、区）政府按职责分工负责", ["市民政局"], ["各县（市、区）政府"]),
        ("市民政局负责", ["市民政局"], []),
        ("责任单位：市民政局、市财政局", ["市民政局", "市财政局"], []),
        ("市民政局、市发展改革委牵头，市财政局配合", ["市民政局", "市发展改革委"], ["市财政局"]),
        ("协办单位：市委宣传部", [], ["市委宣传部"]),
        ("市发改委、市财政局", ["市发改委", "市财政局"], []),
    ],
)
def test_every_note_form_gives_lead_and_co_units(content, lead, co):
    assert roles(content) == (lead, co)


def test_collective_units_keep_their_brackets_and_commas():
    lead, co = roles("市民政局牵头，市级各有关部门、各县（市、区）人民政府配合")
    assert co == ["市级各有关部门", "各县（市、区）人民政府"]


def test_he_and_ji_split_units_but_not_names_that_contain_them():
    assert split_units("市教育局和市民政局")[0] == ["市教育局", "市民政局"]
    assert split_units("市级各有关部门及各县市区政府")[0] == ["市级各有关部门", "各县市区政府"]
    assert split_units("市住房和城乡建设局")[0] == ["市住房和城乡建设局"]
    assert split_units("市人力资源和社会保障局")[0] == ["市人力资源和社会保障局"]


@pytest.mark.parametrize(
    ("glued", "parts"),
    [
        ("市民政局市财政局", ["市民政局", "市财政局"]),
        ("市委市政府", ["市委", "市政府"]),
        ("市委宣传部市民政局", ["市委宣传部", "市民政局"]),
        ("市行政审批局市司法局", ["市行政审批局", "市司法局"]),
    ],
)
def test_names_run_together_are_split_where_a_name_ends_and_reported(glued, parts):
    names, splits = split_units(glued)
    assert names == parts
    assert splits == [(glued, parts)]


@pytest.mark.parametrize(
    "name",
    [
        "市民政局",
        "市社会组织管理局",
        "街道社区服务中心",
        "国家税务总局临江市税务局",
        "全区经济运行各专班",
        "市场监督管理局",
        "自治区民政厅",
    ],
)
def test_a_single_name_is_never_split(name):
    assert split_units(name) == ([name], [])


def test_responsible_unit_alone_leads_and_beside_a_lead_helps_even_on_separate_lines():
    responsible = label_line_note("责任单位：区财政局，各街道")
    assert responsible.resolved() == (["区财政局", "各街道"], [])
    lead = label_line_note("牵头单位：区民政局")
    lead.merge(responsible)
    assert lead.resolved() == (["区民政局"], ["区财政局", "各街道"])


def test_leaders_and_time_are_read_from_labels():
    note = parse_note("牵头单位：市民政局；责任领导：王敏；完成时限：2024年底前")
    assert (note.leaders, note.time) == (["王敏"], "2024年底前")


def test_a_label_line_may_hold_several_labels():
    note = label_line_note("牵头单位：市住房和城乡建设局 配合单位：市社会组织管理局")
    assert note.resolved() == (["市住房和城乡建设局"], ["市社会组织管理局"])


def test_a_time_phrase_inside_a_unit_note_is_its_deadline():
    note = parse_note("市教育局和市民政局牵头，2024年6月底前完成")
    assert note.resolved() == (["市教育局", "市民政局"], [])
    assert note.time == "2024年6月底前完成"


@pytest.mark.parametrize(
    "text",
    [
        "特困供养服务设施（敬老院）",
        "村（社区）党组织",
        "干部队伍。（州民政局供稿）",
        "（市场化运作）",
    ],
)
def test_ordinary_parentheticals_are_not_notes(text):
    assert find_notes(text) == []


def test_notes_are_found_with_their_offsets():
    text = "推进医养结合。（市卫生健康委牵头，市医保局配合）"
    [(start, end, note)] = find_notes(text)
    assert text[start:end] == note.text == "（市卫生健康委牵头，市医保局配合）"
