"""The Excel 台账 pages and the monthly 通报 page."""

from datetime import date
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tracker.models import Change, Measure

from .conftest import client_for

pytestmark = pytest.mark.django_db


def export(client, **params):
    response = client.get(reverse("measure_export_xlsx"), params)
    assert response.status_code == 200
    return load_workbook(BytesIO(response.content))


def header_row(sheet):
    return next(r for r in range(1, 6) if sheet.cell(r, 1).value == "序号")


@pytest.mark.parametrize(
    "name", ["measure_export_xlsx", "measure_export_csv", "ledger_import", "report_monthly"]
)
def test_anonymous_is_sent_to_login(client, name):
    assert client.get(reverse(name))["Location"].startswith(reverse("login"))


def test_export_follows_the_ledger_filters(leader, measure, care_measure):
    client = client_for(leader)
    response = client.get(reverse("measure_export_xlsx"), {"q": "低保"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(BytesIO(response.content)).active
    header = header_row(sheet)
    ids = [c.value for c in sheet[header]].index("事项编号") + 1
    assert sheet.cell(header + 1, 1).value == 1  # 序号 counts the exported rows
    assert sheet.cell(header + 1, ids).value == measure.pk
    assert sheet.cell(header + 2, 1).value is None


def test_csv_export_has_a_bom_for_excel(leader, measure):
    response = client_for(leader).get(reverse("measure_export_csv"))
    assert response.content.startswith("\ufeff".encode())
    assert "健全低保动态管理机制" in response.content.decode("utf-8-sig")


def upload(client, workbook, name="台账.xlsx"):
    buffer = BytesIO()
    workbook.save(buffer)
    return client.post(
        reverse("ledger_import"), {"file": SimpleUploadedFile(name, buffer.getvalue())}
    )


def test_round_trip_preview_then_apply(supervisor, measure, other_staff, units):
    client = client_for(supervisor)
    book = export(client)
    sheet = book.active
    row = header_row(sheet) + 1
    columns = {sheet.cell(header_row(sheet), c).value: c for c in range(1, sheet.max_column + 1)}
    sheet.cell(row, columns["责任人"]).value = other_staff.name
    sheet.cell(row, columns["完成时限"]).value = "2027-05-31"
    preview = upload(client, book)
    html = preview.content.decode()
    assert "将要修改 2 处" in html and "确认导入以上修改" in html
    measure.refresh_from_db()
    assert measure.owner != other_staff  # nothing applied before confirmation
    response = client.post(reverse("ledger_import"), {"action": "apply"})
    assert response["Location"] == reverse("measure_list")
    measure.refresh_from_db()
    assert (measure.owner, measure.deadline) == (other_staff, date(2027, 5, 31))
    assert Change.objects.filter(measure=measure, note="Excel导入").count() == 2


def test_a_sheet_with_bad_rows_applies_nothing(supervisor, measure):
    client = client_for(supervisor)
    book = export(client)
    sheet = book.active
    row = header_row(sheet) + 1
    columns = {sheet.cell(header_row(sheet), c).value: c for c in range(1, sheet.max_column + 1)}
    sheet.cell(row, columns["完成时限"]).value = "明年"
    html = upload(client, book).content.decode()
    assert "行有错误" in html and "确认导入" not in html
    client.post(reverse("ledger_import"), {"action": "apply"})
    measure.refresh_from_db()
    assert measure.version == 1
    assert not Change.objects.exists()


def test_uploading_something_else_says_why(supervisor):
    response = client_for(supervisor).post(
        reverse("ledger_import"), {"file": SimpleUploadedFile("a.xlsx", b"not a workbook")}
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_apply_without_a_preview_says_so(supervisor):
    response = client_for(supervisor).post(
        reverse("ledger_import"), {"action": "apply"}, follow=True
    )
    assert "没有待导入的台账" in response.content.decode()


def test_leaders_cannot_import(leader):
    assert client_for(leader).get(reverse("ledger_import")).status_code == 403


def test_import_needs_the_csrf_token(supervisor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    assert client.post(reverse("ledger_import"), {"action": "apply"}).status_code == 403


def test_monthly_report_page_and_excel(leader, measure, freeze_today):
    client = client_for(leader)
    response = client.get(reverse("report_monthly"), {"month": "2026-11"})
    html = response.content.decode()
    assert "2026年11月督办工作通报" in html and "社会救助司" in html and "排名规则" in html
    xlsx = client.get(reverse("report_monthly"), {"month": "2026-11", "format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "通报" in load_workbook(BytesIO(xlsx.content)).active.cell(1, 1).value


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "月份应为 1–12，收到 13。"),
        ("next", "月份格式应为 YYYY-MM，例如 2026-11。"),
        ("2030-01", "2030年1月尚未到来，不能生成通报。"),
    ],
)
def test_bad_or_future_month_is_a_clear_error(leader, month, message, freeze_today):
    response = client_for(leader).get(reverse("report_monthly"), {"month": month})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_monthly_report_defaults_to_this_month(leader, freeze_today):
    assert "2026年11月" in client_for(leader).get(reverse("report_monthly")).content.decode()


def test_export_status_labels_are_chinese(leader, measure):
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.PENDING_REVIEW)
    sheet = export(client_for(leader)).active
    values = {cell.value for row in sheet.iter_rows() for cell in row}
    assert "待审核" in values
