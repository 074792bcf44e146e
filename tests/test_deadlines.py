"""tracker.pipeline.deadlines: time phrases in task text, 完成时限 values, the document's year."""

from datetime import date

import pytest

from tracker.pipeline.deadlines import document_year, find_deadline, parse_limit

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("text", "deadline", "phrase"),
    [
        ("2024年6月底前完成", date(2024, 6, 30), "2024年6月底前"),
        ("6月底前完成", date(2023, 6, 30), "6月底前"),
        ("年底前建成", date(2023, 12, 31), "年底前"),
        ("今年底前建成", date(2023, 12, 31), "今年底前"),
        ("年内新增50个", date(2023, 12, 31), "年内"),
        ("明年全面推开", date(2024, 12, 31), "明年"),
        ("明年底前建成", date(2024, 12, 31), "明年底前"),
        ("明年6月完成", date(2024, 6, 30), "明年6月"),
        ("第三季度完成评定", date(2023, 9, 30), "第三季度"),
        ("三季度末完成", date(2023, 9, 30), "三季度末"),
        ("12月31日前完成整改", date(2023, 12, 31), "12月31日前"),
        ("上半年出台办法", date(2023, 6, 30), "上半年"),
        ("下半年启动", date(2023, 12, 31), "下半年"),
        ("2024年上半年出台", date(2024, 6, 30), "2024年上半年"),
    ],
)
def test_time_phrases_in_task_text(text, deadline, phrase):
    assert find_deadline(text, 2023) == (deadline, phrase)


@pytest.mark.parametrize(
    "text",
    ["力争5年内实现全覆盖", "3年内建成", "两年内完成", "去年底完成", "2012年起实施", "持续推进"],
)
def test_spans_past_years_and_verbs_are_not_deadlines(text):
    assert find_deadline(text, 2023) == (None, "")


@pytest.mark.parametrize(
    ("value", "deadline", "long_term"),
    [
        ("2024年9月底", date(2024, 9, 30), False),
        ("2024年12月", date(2024, 12, 31), False),
        ("2024年6月—12月", date(2024, 12, 31), False),
        ("6月底前完成方案，12月底前全面完成", date(2023, 12, 31), False),
        ("2024-06-30", date(2024, 6, 30), False),
        ("2024年11月30日", date(2024, 11, 30), False),
        ("2022年第三季度", date(2022, 9, 30), False),
        ("2023—2025年", date(2025, 12, 31), False),
        ("明年6月", date(2024, 6, 30), False),
        ("长期坚持", None, True),
        ("持续推进", None, True),
        ("常态化推进", None, True),
        ("长期", None, True),
        ("2024年底前完成，长期坚持", date(2024, 12, 31), False),
    ],
)
def test_limit_values_give_their_latest_date_or_long_term(value, deadline, long_term):
    assert parse_limit(value, 2023) == (deadline, long_term)


def test_year_from_the_date_line_at_the_end():
    text = "实施意见\n一、任务\n1.年内完成。\n临江市人民政府\n2024年3月20日\n"
    assert document_year(text, "实施意见", TODAY) == 2024


def test_year_from_a_date_line_in_brackets_or_chinese_numerals():
    assert document_year("讲话\n（2024年2月26日）\n", "讲话", TODAY) == 2024
    assert document_year("通知\n二〇二三年三月五日\n", "通知", TODAY) == 2023


def test_year_from_the_document_number():
    assert document_year("通知\n临政办发〔2023〕12号\n正文", "通知", TODAY) == 2023


def test_a_year_the_title_names_wins_over_the_issue_date():
    text = "2024年工作要点\n一、任务\n2023年12月20日\n"
    assert document_year(text, "2024年工作要点", TODAY) == 2024


def test_a_year_a_policy_started_is_not_the_documents_year():
    text = "方案\n自2012年起实施的制度要继续完善。\n市民政局\n2023年3月5日\n"
    assert document_year(text, "方案", TODAY) == 2023


def test_today_only_when_the_document_says_nothing():
    assert document_year("方案\n一、任务\n", "方案", TODAY) == 2026
