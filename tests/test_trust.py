"""No edit lost and no rule bypassed: stale saves, bulk edits, admin saves, decisions that
must be made explicitly, 直接销号, bad numbers and control characters, evidence by unit."""

from datetime import date

import pytest
from django.urls import reverse

from tracker.models import Change, ClosureRequest, ExtensionRequest, Measure, Unit, WorkflowError

from .conftest import HTMX, client_for, make_measure

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


# Stale inline saves ------------------------------------------------------------------------


def test_conflict_box_shows_what_the_database_holds_and_who_changed_it(
    supervisor, measure, units, groups
):
    from .conftest import make_user

    other = make_user("ducha2", "督查员", units["office"], groups)
    loaded = measure.version
    measure.edit(
        other, {"status": Measure.Status.IN_PROGRESS, "deadline": date(2027, 6, 30)}, loaded
    )
    response = client_for(supervisor).post(
        reverse("measure_edit", args=[measure.pk]),
        {"version": loaded, "status": "not_started", "deadline": "2027-05-31"},
        **HTMX,
    )
    html = response.content.decode()
    box = html[
        html.index('class="conflict"') : html.index("</div>", html.index('class="conflict"'))
    ]
    assert "当前值：状态 推进中" in box and "完成时限 2027-06-30" in box
    assert "2027-05-31" not in box and "未启动；" not in box
    assert "Ducha2 于" in box
    measure.refresh_from_db()
    assert (measure.status, measure.deadline) == ("in_progress", date(2027, 6, 30))


# Bulk edits ------------------------------------------------------------------------------------


def test_bulk_edit_leaves_rows_changed_since_the_page_loaded(supervisor, staff, document, units):
    fresh = make_measure(document, 1, "甲")
    stale = make_measure(document, 2, "乙")
    stale_version = stale.version
    stale.edit(staff, {"deadline": date(2027, 1, 31)}, stale.version)
    response = client_for(supervisor).post(
        reverse("measure_bulk"),
        {"ids": [f"{fresh.pk}:{fresh.version}", f"{stale.pk}:{stale_version}"], "owner": staff.pk},
        **HTMX,
    )
    html = response.content.decode()
    assert "已批量修改 1 项" in html and "1 项在您打开页面后已被他人修改" in html and "“乙”" in html
    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.owner == staff
    assert stale.owner is None and stale.deadline == date(2027, 1, 31)


@pytest.mark.parametrize("ids", [[HUGE], [f"{HUGE}:1"], ["1:" + HUGE], ["abc"], ["-1:1"]])
def test_bulk_edit_with_bad_ids_is_a_validation_error(supervisor, staff, measure, ids):
    response = client_for(supervisor).post(
        reverse("measure_bulk"), {"ids": ids, "owner": staff.pk}, **HTMX
    )
    assert response.status_code == 200
    assert "勾选事项：" in response.content.decode() and "Ids" not in response.content.decode()


@pytest.mark.parametrize("field", ["co_units", "joint_units", "unit", "owner"])
def test_huge_ids_in_the_edit_form_are_validation_errors(supervisor, measure, field):
    response = client_for(supervisor).post(
        reverse("measure_edit", args=[measure.pk]),
        {"version": measure.version, field: [HUGE]},
        **HTMX,
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    measure.refresh_from_db()
    assert measure.version == 1


def test_huge_ids_in_ledger_filters_are_ignored_not_500(leader, measure):
    for name in ("unit", "owner", "topic", "document"):
        response = client_for(leader).get(reverse("measure_list"), {name: HUGE})
        assert response.status_code == 200
        assert "无效的筛选条件" in response.content.decode()


# Admin -----------------------------------------------------------------------------------------


def test_an_admin_save_over_a_newer_app_edit_is_refused(admin_client, supervisor, measure, units):
    url = reverse("admin:tracker_measure_change", args=[measure.pk])
    form = admin_client.get(url).context["adminform"].form
    loaded = form.initial["loaded_version"]
    measure.edit(supervisor, {"deadline": date(2027, 6, 30)}, measure.version)  # the app edit
    data = {k: v for k, v in form.initial.items() if v is not None and k != "loaded_version"}
    data.update(
        {
            "loaded_version": loaded,
            "title": measure.title,
            "text": measure.text,
            "unit": units["care"].pk,
            "owner": measure.owner_id,
            "deadline": "2026-10-31",
            "co_units": [],
            "joint_units": [],
            "topics": [],
            "progress_updates-TOTAL_FORMS": 0,
            "progress_updates-INITIAL_FORMS": 0,
            "changes-TOTAL_FORMS": 0,
            "changes-INITIAL_FORMS": 0,
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "已被他人修改" in response.content.decode()
    measure.refresh_from_db()
    assert measure.deadline == date(2027, 6, 30) and measure.unit == units["aid"]


# Decisions must be explicit -------------------------------------------------------------------


@pytest.mark.parametrize("decision", [None, "", "maybe", "return"])
def test_extension_decision_without_a_valid_choice_decides_nothing(
    staff, supervisor, measure, decision
):
    measure.deadline = date(2026, 12, 31)
    measure.save()
    ext = measure.request_extension(staff, date(2027, 3, 31), "资金", date(2026, 11, 22))
    data = {"comment": "x"} | ({"decision": decision} if decision is not None else {})
    response = client_for(supervisor).post(reverse("extension_decide", args=[ext.pk]), data, **HTMX)
    assert (
        "批准或驳回" in response.content.decode() or "无效的审批决定" in response.content.decode()
    )
    ext.refresh_from_db()
    assert ext.status == "pending"


@pytest.mark.parametrize("decision", [None, "maybe"])
def test_closure_decision_without_a_valid_choice_decides_nothing(
    staff, supervisor, measure, decision
):
    closure = measure.request_closure(staff, "完成")
    data = {"comment": "退回"} | ({"decision": decision} if decision else {})
    client_for(supervisor).post(reverse("closure_decide", args=[closure.pk]), data, **HTMX)
    closure.refresh_from_db()
    assert closure.status == ClosureRequest.Outcome.PENDING


@pytest.mark.parametrize("decision", [None, "", "yes"])
def test_recheck_without_a_decision_confirms_nothing(supervisor, measure, decision):
    measure.status, measure.recheck_on = Measure.Status.DONE, date(2026, 11, 1)
    measure.save()
    data = {"comment": "x"} | ({"decision": decision} if decision is not None else {})
    response = client_for(supervisor).post(
        reverse("measure_recheck", args=[measure.pk]), data, **HTMX
    )
    assert "请选择确认办结或重新打开" in response.content.decode() or "无效的决定" in (
        response.content.decode()
    )
    measure.refresh_from_db()
    assert measure.recheck_on == date(2026, 11, 1)


# 已办结 only through sign-off or 直接销号 -------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "staff"])
def test_the_status_select_cannot_close_a_measure(role, request, measure):
    user = request.getfixturevalue(role)
    response = client_for(user).post(
        reverse("measure_edit", args=[measure.pk]),
        {"version": measure.version, "status": "done"},
        **HTMX,
    )
    assert response.status_code == 200
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED and measure.closed_at is None


def test_bulk_edit_cannot_close_measures(supervisor, measure):
    client_for(supervisor).post(
        reverse("measure_bulk"), {"ids": [f"{measure.pk}:{measure.version}"], "status": "done"}
    )
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


def test_direct_close_needs_a_note_and_is_recorded(supervisor, measure):
    client = client_for(supervisor)
    url = reverse("measure_close", args=[measure.pk])
    assert "直接销号须填写说明" in client.post(url, {"note": " "}, **HTMX).content.decode()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED

    client.post(url, {"note": "经现场核查已完成"}, **HTMX)
    measure.refresh_from_db()
    assert measure.status == Measure.Status.DONE and measure.closed_at is not None
    line = measure.changes.get(field="status")
    assert line.note == "直接销号：经现场核查已完成" and line.user == supervisor


def test_only_supervisors_close_directly(staff, leader, measure):
    for user in (staff, leader):
        response = client_for(user).post(
            reverse("measure_close", args=[measure.pk]), {"note": "完成"}
        )
        assert response.status_code == 403
    assert client_for(staff).get(reverse("measure_close", args=[measure.pk])).status_code == 405


def test_direct_close_is_refused_while_a_sign_off_is_pending(staff, supervisor, measure):
    measure.request_closure(staff, "完成")
    with pytest.raises(WorkflowError):
        measure.close_directly(supervisor, "直接")


# Control characters ----------------------------------------------------------------------------


def test_control_characters_never_reach_the_database(staff, supervisor, measure):
    client_for(staff).post(
        reverse("measure_progress", args=[measure.pk]),
        {"progress": "已完成\x0b第一\x01阶段\x1f", "problems": "无\x0c"},
        **HTMX,
    )
    entry = measure.progress_updates.get()
    assert entry.progress == "已完成 第一 阶段" and entry.problems == "无"
    measure.refresh_from_db()  # the first report moved the status: a new version
    client_for(supervisor).post(
        reverse("measure_edit", args=[measure.pk]),
        {"version": measure.version, "title": "标题\x0b含控制符"},
        **HTMX,
    )
    measure.refresh_from_db()
    assert measure.title == "标题 含控制符"


# Evidence by unit ------------------------------------------------------------------------------


def test_evidence_is_downloaded_only_by_people_who_see_the_workflow(
    settings, tmp_path, staff, other_staff, supervisor, leader, measure, units, groups
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import make_user

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("报告.pdf", b"%PDF-1.4\n%%EOF\n")
    client_for(staff).post(
        reverse("closure_request", args=[measure.pk]), {"summary": "完成", "files": [upload]}
    )
    attachment = ClosureRequest.objects.get().attachments.get()
    url = reverse("attachment_download", args=[attachment.pk])
    co_unit = Unit.objects.create(name="配合司")
    measure.co_units.add(co_unit)
    co_staff = make_user("peihe", "责任人", co_unit, groups)
    for user in (staff, supervisor, leader, co_staff):
        assert client_for(user).get(url).status_code == 200, user
    assert client_for(other_staff).get(url).status_code == 403


# History has one writer ------------------------------------------------------------------------


def test_every_history_line_goes_through_the_one_writer(monkeypatch, staff, supervisor, measure):
    written = []
    original = Change.objects.write

    def spy(entries):
        rows = original(entries)
        written.extend(rows)
        return rows

    monkeypatch.setattr(Change.objects, "write", spy)
    measure.edit(supervisor, {"deadline": date(2027, 1, 31)}, measure.version)
    measure.remind(supervisor, "请加快")
    measure.request_extension(staff, date(2027, 3, 31), "资金", date(2026, 11, 22))
    ExtensionRequest.objects.get().decide(supervisor, True)
    measure.archive(supervisor)
    assert len(written) == Change.objects.count() == 5
