"""Every page and action: plain, htmx, invalid, anonymous, wrong role, other unit, stale, CSRF."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from tracker.models import Change, Measure, ProgressUpdate

from .conftest import HTMX, SEED_003, client_for

pytestmark = pytest.mark.django_db


def edit(client, measure, version=None, htmx=True, **data):
    payload = {"version": version if version is not None else measure.version, **data}
    return client.post(
        reverse("measure_edit", args=[measure.pk]), payload, **(HTMX if htmx else {})
    )


# Sign-in and landing ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["home", "measure_list", "my_measures", "overdue", "document_list", "password_change"],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("measure_detail", "get"),
        ("measure_edit", "post"),
        ("measure_row", "get"),
        ("measure_progress", "post"),
        ("measure_archive", "post"),
        ("document_detail", "get"),
    ],
)
def test_anonymous_cannot_reach_object_pages_or_actions(client, measure, name, method):
    pk = measure.document_id if name == "document_detail" else measure.pk
    response = getattr(client, method)(reverse(name, args=[pk]), {"status": "done", "version": 1})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


def test_login_page_is_chinese_and_signs_in(client, staff):
    page = client.get(reverse("login"))
    assert "登录督办台账" in page.content.decode()
    response = client.post(reverse("login"), {"username": "zhangmin", "password": "pw-zhangmin"})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("my_measures")


def test_wrong_password_shows_a_chinese_error(client, staff):
    response = client.post(reverse("login"), {"username": "zhangmin", "password": "nope"})
    assert "用户名或密码不正确" in response.content.decode()


def test_supervisors_and_leaders_land_on_the_dashboard(supervisor, leader):
    assert client_for(supervisor).get(reverse("home"))["Location"] == reverse("overdue")
    assert client_for(leader).get(reverse("home"))["Location"] == reverse("overdue")


def test_logout_is_a_post(staff):
    client = client_for(staff)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("measure_list")).status_code == 302


def test_password_change_page_works(staff):
    client = client_for(staff)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-zhangmin",
            "new_password1": "Xq7!longer-pass",
            "new_password2": "Xq7!longer-pass",
        },
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("Xq7!longer-pass")


# The ledger -----------------------------------------------------------------------------


def test_ledger_shows_the_ledger_columns(leader, measure, freeze_today):
    import re

    html = client_for(leader).get(reverse("measure_list")).content.decode()
    # The table's own header, not the filter labels above it that share some of these words.
    thead = re.search(r"<table class=\"ledger\">\s*<thead>(.*?)</thead>", html, re.S).group(1)
    headers = [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", thead)
    ]
    assert headers == [
        "编号",
        "任务内容",
        "来源",
        "牵头单位",
        "责任人",
        "完成时限",
        "亮灯",
        "状态",
        "最新进展",
        "",
    ]
    assert "健全低保动态管理机制" in html
    assert "测试方案 › 做好社会救助" in html
    assert "逾期22天" in html


def test_ledger_htmx_request_gets_only_the_table(leader, measure):
    response = client_for(leader).get(reverse("measure_list"), {"q": "低保"}, **HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="ledger"' in html
    assert "健全低保动态管理机制" in html
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(leader, measure):
    response = client_for(leader).get(
        reverse("measure_list"), **HTMX, HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "临时救助"}, {"规范临时救助审批"}),
        ({"status": "not_started"}, {"健全低保动态管理机制", "规范临时救助审批"}),
        ({"status": "done"}, set()),
        ({"due": "overdue"}, {"健全低保动态管理机制"}),
        ({"due": "soon"}, set()),
    ],
)
def test_ledger_filters(leader, measure, care_measure, freeze_today, params, expected):
    response = client_for(leader).get(reverse("measure_list"), params)
    titles = {m.title for m in response.context["page"]}
    assert titles == expected


def test_ledger_filters_by_unit_owner_and_document(leader, measure, care_measure, units, staff):
    client = client_for(leader)
    for params in (
        {"unit": units["aid"].pk},
        {"owner": staff.pk},
        {"document": measure.document_id},
    ):
        titles = {m.title for m in client.get(reverse("measure_list"), params).context["page"]}
        assert "健全低保动态管理机制" in titles
    titles = {
        m.title
        for m in client.get(reverse("measure_list"), {"unit": units["care"].pk}).context["page"]
    }
    assert titles == {"规范临时救助审批"}


def test_invalid_filter_is_reported_and_ignored(leader, measure, care_measure):
    response = client_for(leader).get(reverse("measure_list"), {"status": "bogus", "q": "低保"})
    assert "无效的筛选条件" in response.content.decode()
    assert [m.title for m in response.context["page"]] == ["健全低保动态管理机制"]


def test_ledger_sorts_by_deadline(leader, measure, care_measure):
    care_measure.deadline = date(2026, 1, 1)
    care_measure.save()
    page = client_for(leader).get(reverse("measure_list"), {"sort": "deadline"}).context["page"]
    assert [m.title for m in page] == ["规范临时救助审批", "健全低保动态管理机制"]


def test_ledger_escapes_titles(leader, measure):
    Measure.objects.filter(pk=measure.pk).update(title='<script>alert("x")</script>')
    html = client_for(leader).get(reverse("measure_list")).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_archived_measures_leave_the_ledger(leader, measure):
    Measure.objects.filter(pk=measure.pk).update(archived_at="2026-11-01T00:00:00Z")
    assert len(client_for(leader).get(reverse("measure_list")).context["page"]) == 0


# Inline edit ----------------------------------------------------------------------------


def test_staff_changes_status_of_own_measure_inline(staff, measure):
    response = edit(client_for(staff), measure, status="in_progress")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith("<tr")
    assert "measureUpdated" in response["HX-Trigger"]
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS
    assert measure.version == 2
    change = Change.objects.get(measure=measure, field="status")
    assert (change.user, change.old, change.new) == (staff, "未启动", "推进中")


def test_the_saved_row_shows_what_was_saved(supervisor, other_staff, units, measure):
    measure.joint_units.add(units["office"])
    response = edit(
        client_for(supervisor),
        measure,
        owner=other_staff.pk,
        unit=units["care"].pk,
        joint_units=[units["aid"].pk],
        deadline="2027-01-15",
    )
    html = response.content.decode()
    assert f"<td>养老服务司、社会救助司</td><td>{other_staff}</td>" in html
    assert "2027-01-15" in html and 'name="version" value="2"' in html


def test_plain_post_edit_redirects(staff, measure):
    response = edit(
        client_for(staff), measure, htmx=False, status="in_progress", next="/measures/?q=x"
    )
    assert response.status_code == 302
    assert response["Location"] == "/measures/?q=x"


def test_edit_ignores_an_offsite_next(staff, measure):
    response = edit(
        client_for(staff), measure, htmx=False, status="in_progress", next="https://evil.example/"
    )
    assert response["Location"] == reverse("measure_detail", args=[measure.pk])


def test_staff_cannot_assign_owner_or_deadline(staff, measure, supervisor):
    response = edit(client_for(staff), measure, owner=supervisor.pk, deadline="2027-01-01")
    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.owner != supervisor and measure.version == 1


def test_staff_cannot_touch_another_units_measure(staff, care_measure):
    response = edit(client_for(staff), care_measure, status="done")
    assert response.status_code == 403
    care_measure.refresh_from_db()
    assert care_measure.status == Measure.Status.NOT_STARTED


def test_staff_may_update_a_measure_assigned_to_them_in_another_unit(staff, care_measure):
    care_measure.owner = staff
    care_measure.save()
    assert edit(client_for(staff), care_measure, status="in_progress").status_code == 200


def test_leader_is_read_only(leader, measure):
    assert edit(client_for(leader), measure, status="done").status_code == 403
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


def test_supervisor_assigns_owner_unit_and_deadline(supervisor, measure, other_staff, units):
    response = edit(
        client_for(supervisor),
        measure,
        owner=other_staff.pk,
        unit=units["care"].pk,
        deadline="2027-03-31",
        status="in_progress",
    )
    assert response.status_code == 200
    measure.refresh_from_db()
    assert (measure.owner, measure.unit, measure.deadline) == (
        other_staff,
        units["care"],
        date(2027, 3, 31),
    )
    fields = set(Change.objects.filter(measure=measure).values_list("field", flat=True))
    assert fields == {"owner", "unit", "deadline", "status"}
    assert measure.staff_edited_at is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"deadline": "2027-13-45"}, "日期格式应为 YYYY-MM-DD"),
        ({"owner": "99999"}, "没有这个责任人"),
        ({"status": "finished"}, "不允许的状态"),
        ({"title": "长" * 101}, "任务名称最多 100 个字"),
    ],
)
def test_invalid_edit_rerenders_the_fragment_with_a_chinese_error(
    supervisor, measure, data, message
):
    response = edit(client_for(supervisor), measure, **data)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "<html" not in html
    measure.refresh_from_db()
    assert measure.version == 1
    assert not Change.objects.filter(measure=measure).exists()


def test_invalid_plain_post_renders_the_detail_page_with_errors(supervisor, measure):
    response = edit(client_for(supervisor), measure, htmx=False, deadline="tomorrow")
    assert response.status_code == 200
    assert "日期格式应为 YYYY-MM-DD" in response.content.decode()


def test_stale_version_is_refused_with_a_conflict(supervisor, staff, measure):
    edit(client_for(staff), measure, status="in_progress")
    response = edit(client_for(supervisor), measure, version=1, status="suspended")
    html = response.content.decode()
    assert "保存冲突" in html
    assert "由“未启动”改为“推进中”" in html
    assert "Zhangmin" in html  # who changed it
    assert 'name="version" value="2"' in html  # a fresh form keeps the person's input
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS


def test_edit_row_get_gives_the_edit_fragment(supervisor, measure):
    response = client_for(supervisor).get(reverse("measure_edit", args=[measure.pk]), **HTMX)
    html = response.content.decode()
    assert 'class="editing"' in html and 'name="owner"' in html and "<html" not in html
    assert 'name="title"' not in html  # the row edits four fields; the detail page the rest


def test_edit_row_get_without_htmx_goes_to_the_detail_page(supervisor, measure):
    response = client_for(supervisor).get(reverse("measure_edit", args=[measure.pk]))
    assert response["Location"] == reverse("measure_detail", args=[measure.pk])


def test_row_endpoint_renders_the_display_row(leader, measure):
    response = client_for(leader).get(reverse("measure_row", args=[measure.pk]), **HTMX)
    assert response.content.decode().lstrip().startswith("<tr")


def test_post_without_csrf_token_is_refused(staff, measure):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        reverse("measure_edit", args=[measure.pk]), {"status": "done", "version": 1}, **HTMX
    )
    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


def test_pages_send_the_csrf_token_in_hx_headers_and_a_strict_csp(staff):
    response = client_for(staff).get(reverse("my_measures"))
    assert 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_htmx_is_served_by_the_app(staff):
    html = client_for(staff).get(reverse("my_measures")).content.decode()
    assert "/static/django_htmx/htmx" in html
    assert "unpkg" not in html and "cdn" not in html.lower()


# Bulk -----------------------------------------------------------------------------------


def test_supervisor_assigns_in_bulk(supervisor, measure, care_measure, other_staff):
    response = client_for(supervisor).post(
        reverse("measure_bulk"),
        {
            "ids": [f"{measure.pk}:1", f"{care_measure.pk}:1"],
            "owner": other_staff.pk,
            "deadline": "2027-06-30",
        },
        **HTMX,
    )
    assert "已批量修改 2 项" in response.content.decode()
    assert "measureUpdated" in response["HX-Trigger"]
    for m in (measure, care_measure):
        m.refresh_from_db()
        assert (m.owner, m.deadline) == (other_staff, date(2027, 6, 30))
        assert m.changes.filter(field="deadline", note="批量修改").exists()


def test_bulk_without_changes_or_selection_says_why(supervisor, measure):
    client = client_for(supervisor)
    html = client.post(reverse("measure_bulk"), {"ids": [f"{measure.pk}:1"]}, **HTMX)
    html = html.content.decode()
    assert "请至少选择一项要修改的内容" in html
    html = client.post(reverse("measure_bulk"), {"status": "done"}, **HTMX).content.decode()
    assert "请先勾选" in html
    measure.refresh_from_db()
    assert measure.version == 1


def test_bulk_plain_post_redirects_back(supervisor, measure):
    response = client_for(supervisor).post(
        reverse("measure_bulk"),
        {"ids": [f"{measure.pk}:1"], "status": "suspended", "next": "/measures/?status=done"},
    )
    assert response["Location"] == "/measures/?status=done"
    measure.refresh_from_db()
    assert measure.status == Measure.Status.SUSPENDED


def test_bulk_is_for_supervisors_only(staff, measure):
    response = client_for(staff).post(
        reverse("measure_bulk"), {"ids": [f"{measure.pk}:1"], "status": "suspended"}
    )
    assert response.status_code == 403
    measure.refresh_from_db()
    assert measure.status == Measure.Status.NOT_STARTED


# Detail and progress --------------------------------------------------------------------


def test_detail_shows_provenance_journal_and_history(leader, measure):
    html = client_for(leader).get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert "<mark>一是健全低保动态管理机制。</mark>二是规范临时救助审批。" in html
    assert "测试方案" in html and "做好社会救助" in html
    assert "进展记录" in html and "变更记录" in html
    assert "无权修改" in html


def test_detail_history_fragment_for_htmx_refresh(leader, measure):
    response = client_for(leader).get(
        reverse("measure_detail", args=[measure.pk]), **HTMX, HTTP_HX_TARGET="history"
    )
    html = response.content.decode()
    assert 'id="history"' in html and "<html" not in html


def test_staff_adds_progress_and_status_moves_on(staff, measure):
    response = client_for(staff).post(
        reverse("measure_progress", args=[measure.pk]),
        {"progress": "已完成复核", "problems": "", "next_steps": "月底前上报", "percent": "40"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "已完成复核" in response.content.decode()
    assert "measureUpdated" in response["HX-Trigger"]
    entry = ProgressUpdate.objects.get(measure=measure)
    assert (entry.author, entry.percent) == (staff, 40)
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"progress": ""}, "这个字段是必填项"),
        ({"progress": "进" * 2001}, "2000"),
        ({"progress": "ok", "percent": "150"}, "100"),
    ],
)
def test_invalid_progress_saves_nothing(staff, measure, data, message):
    response = client_for(staff).post(reverse("measure_progress", args=[measure.pk]), data, **HTMX)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ProgressUpdate.objects.exists()


def test_progress_plain_post_redirects(staff, measure):
    response = client_for(staff).post(
        reverse("measure_progress", args=[measure.pk]), {"progress": "推进中"}
    )
    assert response["Location"] == reverse("measure_detail", args=[measure.pk])


def test_other_unit_and_leader_cannot_add_progress(other_staff, leader, measure):
    for user in (other_staff, leader):
        response = client_for(user).post(
            reverse("measure_progress", args=[measure.pk]), {"progress": "x"}
        )
        assert response.status_code == 403
    assert not ProgressUpdate.objects.exists()


def test_supervisor_archives_and_staff_cannot(supervisor, staff, measure):
    assert client_for(staff).post(reverse("measure_archive", args=[measure.pk])).status_code == 403
    assert (
        client_for(supervisor).post(reverse("measure_archive", args=[measure.pk])).status_code
        == 302
    )
    measure.refresh_from_db()
    assert measure.archived_at is not None
    assert measure.changes.filter(field="archived", user=supervisor).exists()


def test_unknown_measure_is_404(leader):
    assert client_for(leader).get(reverse("measure_detail", args=[999])).status_code == 404


# My measures and the dashboard ------------------------------------------------------------


def test_my_measures_lists_overdue_first(staff, document, units, freeze_today):
    from .conftest import make_measure

    make_measure(document, 3, "远期事项", unit=units["aid"], owner=staff, deadline=date(2027, 6, 1))
    make_measure(
        document, 4, "即将到期", unit=units["aid"], owner=staff, deadline=date(2026, 11, 25)
    )
    make_measure(document, 5, "已逾期", unit=units["aid"], owner=staff, deadline=date(2026, 11, 1))
    make_measure(
        document,
        6,
        "已办结",
        unit=units["aid"],
        owner=staff,
        status="done",
        deadline=date(2026, 1, 1),
    )
    response = client_for(staff).get(reverse("my_measures"))
    assert [m.title for m in response.context["measures"]] == [
        "已逾期",
        "即将到期",
        "远期事项",
        "已办结",
    ]
    assert "已逾期" in response.content.decode()


def test_dashboard_counts_and_charts(supervisor, measure, care_measure, freeze_today):
    response = client_for(supervisor).get(reverse("overdue"))
    totals = response.context["dash"]["totals"]
    assert totals == {"open": 2, "overdue": 1, "soon": 0, "done": 0, "unassigned": 0}
    html = response.content.decode()
    assert "<svg" in html and "社会救助司" in html
    assert f"/measures/?unit={measure.unit_id}&amp;due=overdue" in html
    assert [m.title for m in response.context["dash"]["overdue_list"]] == ["健全低保动态管理机制"]


def test_dashboard_groups_overdue_by_unit_and_topic_most_first(
    supervisor, staff, document, units, freeze_today
):
    from datetime import timedelta

    from tracker.models import Topic

    from .conftest import TODAY, make_measure

    late = TODAY - timedelta(days=3)
    housing, elderly, unused = (Topic.objects.create(name=n) for n in ("住房", "养老", "殡葬"))
    rows = [
        ("甲", units["care"], late, [elderly]),
        ("乙", units["care"], late, [elderly, housing]),
        ("丙", units["aid"], late, [housing]),
        ("丁", units["aid"], late, []),  # overdue without a 领域: in no 领域 bar
        ("戊", units["aid"], late, [elderly]),
        ("己", units["care"], TODAY + timedelta(days=2), [unused]),  # due soon, not overdue
        ("庚", None, TODAY + timedelta(days=30), [unused]),  # 待交办
    ]
    for position, (title, unit, deadline, topics) in enumerate(rows, 1):
        owner = staff if unit else None
        m = make_measure(document, position, title, unit=unit, owner=owner, deadline=deadline)
        m.topics.set(topics)

    dash = client_for(supervisor).get(reverse("overdue")).context["dash"]
    assert dash["totals"] == {"open": 7, "overdue": 5, "soon": 1, "done": 0, "unassigned": 1}
    # Most overdue first; a tie goes by name.
    assert [(r["name"], r["red"]) for r in dash["light_rows"]] == [
        ("社会救助司", 3),
        ("养老服务司", 2),
        ("未指定", 0),
    ]
    by_unit, by_owner, by_topic = dash["charts"]
    assert [(b["label"], b["n"]) for b in by_topic["bars"]] == [("养老", 3), ("住房", 2)]
    assert [(b["label"], b["n"]) for b in by_owner["bars"]] == [(str(staff), 5)]
    assert f"topic={elderly.pk}" in by_topic["bars"][0]["url"]


def test_dashboard_summary_fragment(supervisor, measure, freeze_today):
    response = client_for(supervisor).get(
        reverse("overdue"), **HTMX, HTTP_HX_TARGET="dashboard-summary"
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="dashboard-summary"' in html
    assert 'data-total="overdue">1<' in html


def test_overdue_means_before_today_in_shanghai(supervisor, measure, freeze_today):
    measure.deadline = freeze_today
    measure.save()
    assert client_for(supervisor).get(reverse("overdue")).context["dash"]["totals"]["overdue"] == 0
    measure.status = Measure.Status.SUSPENDED
    measure.deadline = date(2020, 1, 1)
    measure.save()
    assert client_for(supervisor).get(reverse("overdue")).context["dash"]["totals"]["overdue"] == 0


# Documents ------------------------------------------------------------------------------


def test_document_pages(leader, measure):
    client = client_for(leader)
    assert "测试方案" in client.get(reverse("document_list")).content.decode()
    html = client.get(reverse("document_detail", args=[measure.document_id])).content.decode()
    assert f'href="/measures/{measure.pk}/"' in html
    assert "<mark>一是健全低保动态管理机制。</mark>" in html


def test_supervisor_previews_then_imports_a_document_in_the_browser(supervisor, settings, tmp_path):
    import re

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = client_for(supervisor)
    upload = SimpleUploadedFile("州民政.txt", SEED_003.read_bytes())
    preview = client.post(reverse("document_upload"), {"file": upload})
    html = preview.content.decode()
    assert preview.status_code == 200 and "确认导入" in html
    assert "新建 22 项督办事项" in html or "新建 2" in html
    assert not Measure.objects.exists()  # nothing is written before the confirmation

    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    response = client.post(reverse("document_import"), {"token": token})
    assert response.status_code == 302
    assert Measure.objects.filter(document__source="upload/州民政.txt").count() >= 22
    # The staged file is gone: the same confirmation cannot import twice.
    again = client.post(reverse("document_import"), {"token": token}, follow=True)
    assert "已过期或不存在" in again.content.decode()


def test_upload_preview_lists_the_units_it_will_create(supervisor, units, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tracker.models import Unit

    settings.MEDIA_ROOT = tmp_path
    plan = (
        "2026年社会救助重点任务分工方案\n"
        "1.健全低保动态管理机制。（牵头单位：社会救助司；配合单位：市财政局）\n"
        "2.规范临时救助审批。（牵头单位：社会救助司）\n"
    )
    upload = SimpleUploadedFile("分工.txt", plan.encode())
    html = client_for(supervisor).post(reverse("document_upload"), {"file": upload})
    html = html.content.decode()
    assert "将新建的单位" in html and "<li>市财政局</li>" in html
    assert "<li>社会救助司</li>" not in html
    assert not Unit.objects.filter(name="市财政局").exists()  # rolled back


def test_a_forged_import_token_imports_nothing(supervisor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(supervisor)
    for token in ("../../etc", "0" * 32):
        response = client.post(reverse("document_import"), {"token": token}, follow=True)
        assert "已过期或不存在" in response.content.decode()
    assert not Measure.objects.exists()


def test_upload_of_another_file_type_is_refused_before_parsing(supervisor, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("plan.exe", SEED_003.read_bytes())
    response = client_for(supervisor).post(
        reverse("document_upload"), {"file": upload}, follow=True
    )
    assert "只能导入 .txt、.docx 或 .xlsx 文件" in response.content.decode()
    assert not (tmp_path / "imports").exists() or not any((tmp_path / "imports").iterdir())


def test_upload_of_a_bad_file_says_why_and_imports_nothing(supervisor):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("empty.txt", b"")
    response = client_for(supervisor).post(
        reverse("document_upload"), {"file": upload}, follow=True
    )
    assert "empty.txt" in response.content.decode()
    assert not Measure.objects.exists()


def test_upload_is_for_supervisors_only(staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.txt", SEED_003.read_bytes())
    assert client_for(staff).post(reverse("document_upload"), {"file": upload}).status_code == 403


POST_ONLY = [
    ("measure_bulk", False),
    ("measure_progress", True),
    ("measure_archive", True),
    ("measure_close", True),
    ("measure_recheck", True),
    ("measure_remind", True),
    ("extension_request", True),
    ("extension_decide", True),
    ("closure_request", True),
    ("closure_decide", True),
    ("unit_remind", True),
    ("document_upload", False),
    ("document_import", False),
    ("unit_merge", False),
    ("logout", False),
]


@pytest.mark.parametrize(("name", "takes_pk"), POST_ONLY)
def test_post_only_views_reject_get(supervisor, name, takes_pk):
    url = reverse(name, args=[1] if takes_pk else [])
    assert client_for(supervisor).get(url).status_code == 405


def test_source_sentence_is_fetched_when_a_row_is_opened(leader, measure):
    client = client_for(leader)
    url = reverse("measure_text", args=[measure.pk])
    fragment = client.get(url, **HTMX).content.decode()
    assert (
        fragment.strip()
        == '<blockquote class="source-text">一是健全低保动态管理机制。</blockquote>'
    )
    assert client.get(url)["Location"] == reverse("measure_detail", args=[measure.pk])
    ledger = client.get(reverse("measure_list")).content.decode()
    assert f'hx-get="{url}"' in ledger and "一是健全低保动态管理机制。" not in ledger


def test_a_page_of_100_rows_stays_lean(supervisor, document, units, staff):
    """The source sentence is not in the rows; each row is its status form and a few cells.

    The row's form (token, version, next, status select) is what every row must carry for
    the no-JS path, so the budget is per row: about 1.2 KB with these titles, ids of up to
    five digits (each row names its id eight times) and the page's tabs and bulk bar."""
    from datetime import timedelta

    from .conftest import make_measure

    for i in range(120):
        make_measure(
            document,
            i + 10,
            f"完善居家社区养老服务网络第{i}项任务",
            text="一是完善居家社区养老服务网络，推进街道综合养老服务中心全覆盖。" * 3,
            unit=units["care"],
            owner=staff,
            deadline=date(2026, 11, 1) + timedelta(days=i),
        )
    html = client_for(supervisor).get(reverse("measure_list")).content
    assert html.count(b'<tr id="measure-') == 100
    assert len(html) < 145_000, len(html)
    assert "推进街道综合养老服务中心全覆盖".encode() not in html


def test_pages_are_compressed_with_fresh_csrf_masks(leader, measure):
    import gzip
    import re

    client = client_for(leader)
    first = client.get(reverse("measure_list"), HTTP_ACCEPT_ENCODING="gzip")
    second = client.get(reverse("measure_list"), HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip"
    pages = [gzip.decompress(r.content).decode() for r in (first, second)]
    tokens = [re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1) for page in pages]
    assert tokens[0] != tokens[1]  # masked per response: a compressed length leaks nothing
    assert "健全低保动态管理机制" in pages[0]


# Small fixes from the office's daily work ------------------------------------------------


def test_bulk_errors_name_the_ticked_rows_in_chinese(supervisor, measure):
    html = client_for(supervisor).post(reverse("measure_bulk"), {"status": "suspended"}, **HTMX)
    html = html.content.decode()
    assert "勾选事项：请先勾选要批量处理的事项。" in html
    assert "Ids" not in html


def test_the_status_tag_beside_the_title_refreshes_itself(staff, measure):
    client = client_for(staff)
    url = reverse("measure_detail", args=[measure.pk])
    html = client.get(url).content.decode()
    assert 'id="status-tag"' in html and 'hx-trigger="measureUpdated from:body"' in html
    client.post(reverse("measure_progress", args=[measure.pk]), {"progress": "已部署"}, **HTMX)
    fragment = client.get(url, **HTMX, HTTP_HX_TARGET="status-tag").content.decode()
    assert fragment.startswith('<span id="status-tag"') and "<html" not in fragment
    assert "推进中" in fragment


def test_the_percent_field_stops_at_100(staff, measure):
    from tracker.forms import ProgressForm

    widget = str(ProgressForm()["percent"])
    assert 'min="0"' in widget and 'max="100"' in widget
    html = client_for(staff).get(reverse("measure_detail", args=[measure.pk])).content.decode()
    assert 'max="100"' in html


def test_a_leader_has_no_empty_my_measures_menu(leader, staff, supervisor):
    my = f'href="{reverse("my_measures")}"'
    assert my not in client_for(leader).get(reverse("overdue")).content.decode()
    assert my in client_for(staff).get(reverse("my_measures")).content.decode()
    assert my in client_for(supervisor).get(reverse("overdue")).content.decode()


def test_a_leader_is_never_offered_as_owner(supervisor, leader, staff, measure):
    from tracker.forms import BulkForm, MeasureEditForm

    owners = set(MeasureEditForm(instance=measure, user=supervisor).fields["owner"].queryset)
    assert staff in owners and supervisor in owners and leader not in owners
    assert leader not in set(BulkForm().fields["owner"].queryset)
    html = client_for(supervisor).get(reverse("measure_list")).content.decode()
    bulk_owners = html.split('id="bulk-form"')[1].split('name="owner"')[1].split("</select>")[0]
    assert f'<option value="{staff.pk}"' in bulk_owners
    assert f'<option value="{leader.pk}"' not in bulk_owners
    response = client_for(supervisor).post(
        reverse("measure_bulk"), {"ids": [f"{measure.pk}:1"], "owner": leader.pk}, **HTMX
    )
    assert "责任人" in response.content.decode()
    measure.refresh_from_db()
    assert measure.owner == staff


def test_the_measure_page_light_counts_the_latest_report(staff, document, units, freeze_today):
    from datetime import datetime

    from django.utils import timezone

    from tracker.models import ProgressUpdate

    from .conftest import make_measure

    reported = make_measure(
        document,
        40,
        "按月报送",
        unit=units["aid"],
        owner=staff,
        deadline=date(2027, 6, 30),
        report_cadence="monthly",
        report_day=10,
        assigned_at=timezone.make_aware(datetime(2026, 8, 1, 9)),
    )
    ProgressUpdate.objects.create(
        measure=reported,
        author=staff,
        progress="按期报送",
        percent=40,
        created_at=timezone.make_aware(datetime(2026, 11, 9, 9)),
    )
    response = client_for(staff).get(reverse("measure_detail", args=[reported.pk]))
    assert response.context["light"] == "green"  # reported before the 11-10 due date
