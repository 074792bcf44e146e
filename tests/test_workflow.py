"""The 督办 workflow: extension requests, sign-off with evidence, 回头看, 催办."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracker.lights import Light
from tracker.models import (
    Attachment,
    ClosureRequest,
    ExtensionRequest,
    Measure,
    Reminder,
    WorkflowError,
)

from .conftest import HTMX, TODAY, client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def post(user, name, pk, data=None, htmx=True, **extra):
    return client_for(user).post(
        reverse(name, args=[pk]), data or {}, **(HTMX if htmx else {}), **extra
    )


# Extension requests ---------------------------------------------------------------------


def test_owner_requests_an_extension_and_supervisor_approves(staff, supervisor, measure):
    measure.deadline = date(2026, 12, 31)
    measure.save()
    response = post(
        staff, "extension_request", measure.pk, {"deadline": "2027-03-31", "reason": "资金未到位"}
    )
    assert "延期申请已提交" in response.content.decode()
    ext = ExtensionRequest.objects.get()
    assert (ext.current_deadline, ext.requested_deadline, ext.late) == (
        date(2026, 12, 31),
        date(2027, 3, 31),
        False,
    )
    response = post(
        supervisor, "extension_decide", ext.pk, {"decision": "approve", "comment": "同意"}
    )
    assert "已批准延期至 2027-03-31" in response.content.decode()
    assert "measureUpdated" in response["HX-Trigger"]
    measure.refresh_from_db()
    assert measure.deadline == date(2027, 3, 31)
    assert measure.original_deadline == date(2026, 12, 31)  # the original is kept
    history = list(measure.changes.values_list("field", "note"))
    assert ("deadline", "批准延期。同意") in history
    assert any(field == "extension" and "资金未到位" in note for field, note in history)


def test_a_request_after_the_deadline_is_flagged_late(staff, measure, freeze_today):
    post(staff, "extension_request", measure.pk, {"deadline": "2027-01-31", "reason": "复核量大"})
    assert ExtensionRequest.objects.get().late
    assert "超期申请" in measure.changes.get(field="extension").note


def test_second_approval_keeps_the_first_original_deadline(staff, supervisor, measure):
    for deadline in ("2026-12-31", "2027-02-28"):
        ext = measure.request_extension(staff, date.fromisoformat(deadline), "再延", TODAY)
        ext.decide(supervisor, approve=True)
    measure.refresh_from_db()
    assert measure.original_deadline == date(2026, 10, 31)
    assert measure.deadline == date(2027, 2, 28)


def test_supervisor_rejects_an_extension(staff, supervisor, measure):
    ext = measure.request_extension(staff, date(2027, 1, 31), "理由", TODAY)
    post(supervisor, "extension_decide", ext.pk, {"decision": "reject", "comment": "不符合条件"})
    ext.refresh_from_db()
    measure.refresh_from_db()
    assert ext.status == "rejected" and ext.comment == "不符合条件"
    assert measure.deadline == date(2026, 10, 31)
    assert measure.original_deadline is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"deadline": "2026-10-01", "reason": "x"}, "须晚于当前时限 2026-10-31"),
        ({"deadline": "2026/12/01", "reason": "x"}, "日期格式应为 YYYY-MM-DD"),
        ({"deadline": "2027-01-01", "reason": ""}, "请写明延期理由"),
    ],
)
def test_bad_extension_requests_change_nothing(staff, measure, data, message):
    response = post(staff, "extension_request", measure.pk, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ExtensionRequest.objects.exists()


def test_only_one_pending_extension(staff, measure):
    measure.request_extension(staff, date(2027, 1, 31), "一", TODAY)
    with pytest.raises(WorkflowError, match="已有待审批"):
        measure.request_extension(staff, date(2027, 2, 28), "二", TODAY)


def test_extension_permissions(other_staff, leader, staff, measure):
    for user in (other_staff, leader):
        response = post(
            user, "extension_request", measure.pk, {"deadline": "2027-01-31", "reason": "x"}
        )
        assert response.status_code == 403
    ext = measure.request_extension(staff, date(2027, 1, 31), "x", TODAY)
    for user in (staff, leader):
        assert post(user, "extension_decide", ext.pk, {"decision": "approve"}).status_code == 403
    ext.refresh_from_db()
    assert ext.status == "pending"


def test_a_decided_extension_cannot_be_decided_again(staff, supervisor, measure):
    ext = measure.request_extension(staff, date(2027, 1, 31), "x", TODAY)
    ext.decide(supervisor, approve=False)
    response = post(supervisor, "extension_decide", ext.pk, {"decision": "approve"})
    assert "此延期申请已处理" in response.content.decode()
    measure.refresh_from_db()
    assert measure.deadline == date(2026, 10, 31)


# Sign-off -------------------------------------------------------------------------------


def closure_post(user, measure, files=(), summary="已全部完成", htmx=True):
    data = {"summary": summary, "files": list(files)}
    return post(user, "closure_request", measure.pk, data, htmx=htmx)


def test_owner_asks_for_sign_off_with_evidence(staff, measure):
    evidence = SimpleUploadedFile("完成报告.pdf", PDF, content_type="application/pdf")
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = closure_post(staff, measure, [evidence, photo])
    assert "办结申请已提交" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.PENDING_REVIEW
    names = sorted(a.original_name for a in Attachment.objects.all())
    assert names == ["完成报告.pdf", "现场.png"]
    stored = Attachment.objects.get(original_name="完成报告.pdf").file.name
    assert stored.startswith(f"attachments/{measure.pk}/") and "完成报告" not in stored


def test_supervisor_signs_off_with_a_recheck_date(staff, supervisor, measure):
    closure = measure.request_closure(staff, "完成")
    response = post(
        supervisor,
        "closure_decide",
        closure.pk,
        {"decision": "approve", "comment": "材料齐全", "recheck_on": "2027-03-01"},
    )
    assert "已销号办结" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.DONE
    assert measure.recheck_on == date(2027, 3, 1)
    assert "审核通过，销号" in measure.changes.filter(field="status").first().note


def test_supervisor_sends_it_back_with_a_reason(staff, supervisor, measure):
    closure = measure.request_closure(staff, "完成")
    response = post(supervisor, "closure_decide", closure.pk, {"decision": "reject", "comment": ""})
    assert "退回重办须写明理由" in response.content.decode()
    closure.refresh_from_db()
    assert closure.status == "pending"
    post(supervisor, "closure_decide", closure.pk, {"decision": "reject", "comment": "缺少佐证"})
    measure.refresh_from_db()
    closure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS
    assert closure.status == ClosureRequest.Outcome.RETURNED
    assert measure.changes.filter(note="退回重办：缺少佐证").exists()


def test_sign_off_permissions(staff, other_staff, leader, measure):
    assert closure_post(other_staff, measure).status_code == 403
    assert closure_post(leader, measure).status_code == 403
    closure = measure.request_closure(staff, "完成")
    assert post(staff, "closure_decide", closure.pk, {"decision": "approve"}).status_code == 403
    measure.refresh_from_db()
    assert measure.status == Measure.Status.PENDING_REVIEW


def test_cannot_ask_twice_or_for_a_closed_measure(staff, measure):
    measure.request_closure(staff, "完成")
    with pytest.raises(WorkflowError, match="待审核"):
        measure.request_closure(staff, "再次")


def test_staff_cannot_close_by_editing_the_status(staff, measure):
    response = client_for(staff).post(
        reverse("measure_edit", args=[measure.pk]), {"status": "done", "version": 1}, **HTMX
    )
    assert "不允许的状态" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe", b"MZ\x90\x00", "类型不允许"),
        ("report.pdf.exe", PDF, "类型不允许"),
        ("fake.pdf", b"<html><script>alert(1)</script>", "内容与扩展名不符"),
        ("empty.png", b"", "空文件"),
    ],
)
def test_bad_attachments_are_refused_and_nothing_changes(staff, measure, name, content, message):
    response = closure_post(staff, measure, [SimpleUploadedFile(name, content)])
    assert message in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED
    assert not ClosureRequest.objects.exists()


def test_attachment_size_limit(staff, measure, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)
    assert "超过" in closure_post(staff, measure, [big]).content.decode()
    assert not Attachment.objects.exists()


def test_hostile_file_names_are_made_safe(staff, measure):
    hostile = SimpleUploadedFile('../../etc/"passwd<1>".pdf', PDF)
    closure_post(staff, measure, [hostile])
    attachment = Attachment.objects.get()
    assert attachment.original_name == "passwd1.pdf"
    assert ".." not in attachment.file.name and "passwd" not in attachment.file.name


def test_attachments_are_served_only_to_signed_in_users(client, staff, leader, measure):
    closure_post(staff, measure, [SimpleUploadedFile("完成报告.pdf", PDF)])
    attachment = Attachment.objects.get()
    url = reverse("attachment_download", args=[attachment.pk])
    assert client.get(url).status_code == 302
    response = client_for(leader).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment;" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_closure_plain_post_redirects(staff, measure):
    response = closure_post(staff, measure, htmx=False)
    assert response["Location"] == reverse("measure_detail", args=[measure.pk])


# 回头看 ---------------------------------------------------------------------------------


@pytest.fixture
def closed(staff, supervisor, measure):
    measure.request_closure(staff, "完成").decide(supervisor, True, recheck_on=date(2026, 12, 1))
    measure.refresh_from_db()
    return measure


def test_recheck_confirms_the_closure(supervisor, closed):
    post(supervisor, "measure_recheck", closed.pk, {"decision": "confirm", "comment": "无反弹"})
    closed.refresh_from_db()
    assert closed.status == Measure.Status.DONE and closed.recheck_on is None
    assert closed.changes.filter(note="回头看确认办结。无反弹").exists()


def test_recheck_reopens_with_a_reason(supervisor, closed):
    response = post(supervisor, "measure_recheck", closed.pk, {"decision": "reopen", "comment": ""})
    assert "重新打开须写明理由" in response.content.decode()
    post(supervisor, "measure_recheck", closed.pk, {"decision": "reopen", "comment": "问题反弹"})
    closed.refresh_from_db()
    assert closed.status == Measure.Status.IN_PROGRESS


def test_recheck_is_for_supervisors(staff, leader, closed):
    for user in (staff, leader):
        assert (
            post(
                user, "measure_recheck", closed.pk, {"decision": "reopen", "comment": "x"}
            ).status_code
            == 403
        )


# 催办 -----------------------------------------------------------------------------------


def test_supervisor_reminds_an_owner(
    supervisor, staff, measure, mailoutbox, django_capture_on_commit_callbacks
):
    staff.email = "zhangmin@example.gov.cn"
    staff.save()
    with django_capture_on_commit_callbacks(execute=True):  # 催办 mail goes out on commit
        response = post(supervisor, "measure_remind", measure.pk, {"note": "请本周内报送"})
    assert "已催办" in response.content.decode()
    reminder = Reminder.objects.get()
    assert (reminder.recipient, reminder.sent_by, reminder.emailed) == (staff, supervisor, True)
    assert measure.changes.get(field="reminder").note == "催办。请本周内报送"
    assert mailoutbox[0].to == ["zhangmin@example.gov.cn"]


def test_remind_every_overdue_measure_of_a_unit(
    supervisor, staff, document, units, freeze_today, mailoutbox, django_capture_on_commit_callbacks
):
    from .conftest import make_measure

    staff.email = "zhangmin@example.gov.cn"
    staff.save()
    for n, deadline in enumerate(
        [date(2026, 11, 1), date(2026, 11, 20), date(2026, 12, 31)], start=1
    ):
        make_measure(document, n, f"事项{n}", unit=units["aid"], owner=staff, deadline=deadline)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(supervisor).post(
            reverse("unit_remind", args=[units["aid"].pk]), {"confirm": "1"}
        )
    assert response.status_code == 302
    assert Reminder.objects.count() == 2
    assert len(mailoutbox) == 1  # one mail per owner


@pytest.fixture
def two_overdue(document, units, staff, other_staff, freeze_today):
    from .conftest import make_measure

    for n, owner in enumerate([staff, other_staff], start=1):
        make_measure(
            document, n, f"逾期{n}", unit=units["aid"], owner=owner, deadline=date(2026, 11, 1)
        )
    return units["aid"]


def test_unit_remind_asks_first_and_sends_nothing(supervisor, two_overdue, mailoutbox):
    url = reverse("unit_remind", args=[two_overdue.pk])
    html = client_for(supervisor).post(url, **HTMX).content.decode()
    assert "确认催办 2 项？将提醒 2 位责任人。" in html
    assert 'name="confirm" value="1"' in html
    assert f'action="{url}"' in html and 'method="post"' in html
    assert not Reminder.objects.exists() and mailoutbox == []


def test_unit_remind_without_javascript_asks_on_the_dashboard(supervisor, two_overdue):
    response = client_for(supervisor).post(reverse("unit_remind", args=[two_overdue.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "确认催办 2 项？" in html
    assert "逾期督办" in html  # the whole dashboard, the question in the unit's row
    assert not Reminder.objects.exists()


def test_unit_remind_sends_once_confirmed(supervisor, two_overdue):
    url = reverse("unit_remind", args=[two_overdue.pk])
    html = client_for(supervisor).post(url, {"confirm": "1"}, **HTMX).content.decode()
    assert "已催办社会救助司逾期事项 2 项" in html
    assert Reminder.objects.count() == 2


def test_unit_remind_with_nothing_overdue_says_so(supervisor, units, measure, freeze_today):
    url = reverse("unit_remind", args=[units["care"].pk])
    html = client_for(supervisor).post(url, **HTMX).content.decode()
    assert "没有需要催办的逾期事项" in html
    assert not Reminder.objects.exists()


def test_reminding_is_for_supervisors(staff, leader, measure, units):
    assert post(staff, "measure_remind", measure.pk).status_code == 403
    assert post(leader, "unit_remind", units["aid"].pk).status_code == 403
    assert not Reminder.objects.exists()


def test_cannot_remind_a_measure_without_owner(supervisor, care_measure):
    care_measure.owner = None
    care_measure.save()
    response = post(supervisor, "measure_remind", care_measure.pk)
    assert "尚未指定责任人" in response.content.decode()
    assert not Reminder.objects.exists()


# Lights in the pages ----------------------------------------------------------------------


def test_ledger_shows_and_filters_lights(leader, measure, care_measure, freeze_today):
    client = client_for(leader)
    html = client.get(reverse("measure_list")).content.decode()
    assert "红灯" in html and "绿灯" in html
    titles = {
        m.title for m in client.get(reverse("measure_list"), {"light": "red"}).context["page"]
    }
    assert titles == {"健全低保动态管理机制"}


def test_dashboard_counts_lights_by_unit_and_lists_pending_work(
    supervisor, staff, measure, freeze_today
):
    measure.request_extension(staff, date(2027, 1, 31), "理由", TODAY)
    response = client_for(supervisor).get(reverse("overdue"))
    assert dict(response.context["dash"]["light_totals"])[Light.RED] == 1
    assert response.context["dash"]["light_rows"][0]["name"] == "社会救助司"
    assert len(response.context["dash"]["pending_extensions"]) == 1
    assert "超期申请" in response.content.decode()


# Guards found in review ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending_review", "done", "suspended"])
def test_staff_cannot_move_a_measure_out_of_review_done_or_suspended(staff, measure, status):
    Measure.objects.filter(pk=measure.pk).update(status=status)
    response = client_for(staff).post(
        reverse("measure_edit", args=[measure.pk]), {"status": "in_progress", "version": 1}, **HTMX
    )
    assert "不允许的状态" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == status


def test_a_second_closure_request_is_refused_while_one_is_pending(staff, supervisor, measure):
    measure.request_closure(staff, "完成")
    measure.edit(supervisor, {"status": Measure.Status.IN_PROGRESS}, measure.version)
    with pytest.raises(WorkflowError, match="已有待审核的办结申请"):
        measure.request_closure(staff, "再次")


def test_approving_a_stale_extension_is_refused(staff, supervisor, measure):
    ext = measure.request_extension(staff, date(2027, 1, 31), "理由", TODAY)
    measure.edit(supervisor, {"deadline": date(2027, 6, 30)}, measure.version)
    with pytest.raises(WorkflowError, match="完成时限已改为 2027-06-30"):
        ext.decide(supervisor, approve=True)
    measure.refresh_from_db()
    assert measure.deadline == date(2027, 6, 30) and measure.original_deadline is None


def test_daily_digest_reminders_are_in_the_history(staff, measure, mailoutbox):
    from tracker import reminders

    staff.email = "zhangmin@example.gov.cn"
    staff.save()
    reminders.send_daily(TODAY)
    change = measure.changes.get(field="reminder")
    assert change.user is None and "每日提醒" in change.note


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("台账.csv", 10, "请上传由本系统导出的 .xlsx 文件"),
        ("台账.xlsx", 6 * 1024 * 1024, "超过 5 MB"),
    ],
)
def test_ledger_upload_checks_type_and_size(supervisor, name, size, message):
    upload = SimpleUploadedFile(name, b"0" * size)
    response = client_for(supervisor).post(reverse("ledger_import"), {"file": upload})
    assert message in response.content.decode()


# What the workflow panel offers --------------------------------------------------------


def detail_html(user, measure):
    return client_for(user).get(reverse("measure_detail", args=[measure.pk])).content.decode()


def test_no_second_extension_is_offered_while_one_is_pending(staff, measure):
    assert "提交延期申请" in detail_html(staff, measure)
    html = post(
        staff, "extension_request", measure.pk, {"deadline": "2027-03-31", "reason": "资金未到位"}
    ).content.decode()
    assert "延期申请待审批" in html and "提交延期申请" not in html
    html = detail_html(staff, measure)
    assert "延期申请待审批" in html and "提交延期申请" not in html


def test_no_second_sign_off_is_offered_while_one_is_pending(staff, supervisor, measure):
    measure.request_closure(staff, "已完成")
    # A supervisor may move the status on while the request still waits for a decision.
    measure.refresh_from_db()
    measure.edit(supervisor, {"status": Measure.Status.IN_PROGRESS}, measure.version)
    html = detail_html(staff, measure)
    assert "办结申请待审核" in html and "提交办结申请" not in html


def test_a_photo_from_the_camera_is_evidence_like_any_file(staff, measure):
    html = detail_html(staff, measure)
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    evidence = SimpleUploadedFile("报告.pdf", PDF, content_type="application/pdf")
    photo = SimpleUploadedFile("image.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    response = post(
        staff,
        "closure_request",
        measure.pk,
        {"summary": "已完成", "files": [evidence], "photo": photo},
    )
    assert "办结申请已提交" in response.content.decode()
    assert sorted(Attachment.objects.values_list("original_name", flat=True)) == [
        "image.jpg",
        "报告.pdf",
    ]


def test_a_camera_photo_in_a_refused_format_is_refused(staff, measure):
    photo = SimpleUploadedFile("IMG_0001.heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 16)
    response = post(staff, "closure_request", measure.pk, {"summary": "已完成", "photo": photo})
    html = response.content.decode()
    assert "办结申请未提交" in html and "类型不允许" in html
    measure.refresh_from_db()
    assert measure.status != Measure.Status.PENDING_REVIEW
    assert not Attachment.objects.exists()


def test_the_photo_counts_towards_the_per_request_limit(staff, measure, settings):
    settings.ATTACHMENTS_PER_REQUEST = 1
    files = [SimpleUploadedFile("a.png", PNG)]
    photo = SimpleUploadedFile("b.png", PNG)
    response = post(
        staff, "closure_request", measure.pk, {"summary": "已完成", "files": files, "photo": photo}
    )
    assert "一次最多上传 1 个文件" in response.content.decode()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("cadence", "day", "shown"),
    [
        ("weekly", 5, "每周五报送"),
        ("weekly", 7, "每周日报送"),
        ("monthly", 10, "每月10日报送"),
        ("quarterly", 10, "每季度末月10日报送"),
        ("", None, "不定期"),
    ],
)
def test_the_report_cycle_says_the_day(leader, measure, cadence, day, shown):
    measure.report_cadence, measure.report_day = cadence, day
    measure.save()
    assert f"<dt>报送周期</dt><dd>{shown}</dd>" in detail_html(leader, measure)
