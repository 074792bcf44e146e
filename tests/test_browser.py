"""Real browser tests: Playwright driving Debian's Chromium against the live server.

These never skip: a machine without /usr/bin/chromium fails them (`.ci/run` installs it).
"""

from datetime import date
from io import StringIO

import pytest
from playwright.sync_api import expect

from tracker.models import Measure, ProgressUpdate

from .conftest import assert_not_reloaded, make_measure, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_lands_on_my_measures(open_page, staff, measure, live_server):
    page = open_page(staff)
    expect(page).to_have_url(f"{live_server.url}/my/")
    expect(page.locator("h1")).to_have_text("我的事项")
    expect(page.locator(f"#measure-{measure.pk}")).to_contain_text("健全低保动态管理机制")


def test_wrong_password_stays_on_login_with_message(open_page, staff):
    page = open_page(staff, password="wrong")
    expect(page.locator(".error")).to_contain_text("用户名或密码不正确")


def test_filter_the_ledger_and_go_back(open_page, leader, measure, care_measure, live_server):
    page = open_page(leader)
    page.goto(f"{live_server.url}/measures/")
    mark_page(page)
    rows = page.locator("#ledger tbody tr[id^=measure-]")
    expect(rows).to_have_count(2)
    page.fill("#id_q", "临时救助")
    expect(rows).to_have_count(1)
    assert "q=%E4%B8%B4%E6%97%B6%E6%95%91%E5%8A%A9" in page.url  # 临时救助, bookmarkable
    page.select_option("#id_due", "overdue")
    expect(rows).to_have_count(0)
    assert "due=overdue" in page.url
    page.go_back()
    expect(rows).to_have_count(1)
    expect(page.locator("#ledger")).to_contain_text("规范临时救助审批")
    assert "due=overdue" not in page.url
    assert_not_reloaded(page)


def test_inline_status_change_updates_row_and_dashboard(
    open_page, supervisor, measure, freeze_today, live_server
):
    page = open_page(supervisor)
    expect(page).to_have_url(f"{live_server.url}/overdue/")
    mark_page(page)
    overdue = page.locator("[data-total=overdue]")
    expect(overdue).to_have_text("1")
    open_count = page.locator("[data-total=open]")
    expect(open_count).to_have_text("1")
    # 暂缓 takes the measure out of the open count and the overdue count alike.
    page.locator(f"#measure-{measure.pk} select[name=status]").select_option("suspended")
    expect(overdue).to_have_text("0")
    expect(open_count).to_have_text("0")
    expect(page.locator(f"#measure-{measure.pk} select[name=status]")).to_have_value("suspended")
    assert_not_reloaded(page)
    measure.refresh_from_db()
    assert measure.status == Measure.Status.SUSPENDED


def test_inline_status_change_works_without_javascript(open_page, staff, measure, live_server):
    page = open_page(staff, javascript=False)
    page.goto(f"{live_server.url}/measures/")
    row = page.locator(f"#measure-{measure.pk}")
    row.locator("select[name=status]").select_option("in_progress")
    row.locator("button", has_text="保存").click()
    page.wait_for_load_state()
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS


def test_add_a_progress_entry(open_page, staff, measure, live_server):
    page = open_page(staff)
    page.goto(f"{live_server.url}/measures/{measure.pk}/")
    mark_page(page)
    page.fill("#id_progress", "已完成全部低保对象复核")
    page.fill("#id_percent", "60")
    page.click("text=提交进展")
    expect(page.locator("#journal .journal")).to_contain_text("已完成全部低保对象复核")
    expect(page.locator("#history")).to_contain_text("推进中")  # refreshed by measureUpdated
    assert_not_reloaded(page)
    assert ProgressUpdate.objects.get(measure=measure).percent == 60


def test_bulk_assign(open_page, supervisor, measure, care_measure, other_staff, live_server):
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/measures/")
    mark_page(page)
    page.check("th.check input[type=checkbox]")  # select all
    page.select_option("#bulk-form select[name=owner]", str(other_staff.pk))
    page.fill("#bulk-form input[name=deadline]", "2027-06-30")
    page.click("#bulk-form button[type=submit]")
    expect(page.locator("#bulk-errors")).to_contain_text("已批量修改 2 项")
    # The table reloads itself with the same filters: new owners and fresh versions.
    expect(page.locator(f"#measure-{care_measure.pk}")).to_contain_text(str(other_staff))
    expect(page.locator(f"#measure-{measure.pk}")).to_contain_text("2027-06-30")
    assert_not_reloaded(page)
    for m in (measure, care_measure):
        m.refresh_from_db()
        assert (m.owner_id, m.deadline) == (other_staff.pk, date(2027, 6, 30))


def test_inline_edit_row_assigns_owner(open_page, supervisor, measure, other_staff, live_server):
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/measures/")
    row = page.locator(f"#measure-{measure.pk}")
    row.locator("text=编辑").click()
    row = page.locator(f"#measure-{measure.pk}.editing")
    row.locator("select[name=owner]").select_option(str(other_staff.pk))
    row.locator("input[name=deadline]").fill("2027-01-15")
    row.locator("button", has_text="保存").click()
    display = page.locator(f"#measure-{measure.pk}:not(.editing)")
    expect(display).to_contain_text("2027-01-15")
    expect(display).to_contain_text(str(other_staff))


def test_second_editor_sees_the_conflict(
    open_page, supervisor, measure, groups, units, live_server
):
    from .conftest import make_user

    second = make_user("ducha2", "督查员", units["office"], groups)
    url = f"{live_server.url}/measures/{measure.pk}/"
    first_page, second_page = open_page(supervisor), open_page(second)
    first_page.goto(url)
    second_page.goto(url)
    first_page.fill("#id_deadline", "2027-02-01")
    first_page.click("#edit-form button[type=submit]")
    expect(first_page.locator("#history")).to_contain_text("2027-02-01")
    second_page.fill("#id_deadline", "2027-03-01")
    second_page.click("#edit-form button[type=submit]")
    conflict = second_page.locator(".conflict")
    expect(conflict).to_contain_text("保存冲突")
    expect(conflict).to_contain_text("2027-02-01")
    expect(second_page.locator("#id_deadline")).to_have_value("2027-03-01")  # their input kept
    measure.refresh_from_db()
    assert measure.deadline == date(2027, 2, 1)


def test_script_payloads_never_execute(open_page, supervisor, staff, document, units, live_server):
    payload = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
    hostile = make_measure(document, 9, payload, unit=units["aid"], owner=staff)
    ProgressUpdate.objects.create(measure=hostile, author=staff, progress=payload, problems=payload)
    page = open_page(supervisor)
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog) or dialog.dismiss())
    for path in [
        "/measures/",
        "/overdue/",
        f"/documents/{document.pk}/",
        f"/measures/{hostile.pk}/",
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__xss === undefined"), path
    # Shown as text, in the title and in the journal.
    expect(page.locator("h1")).to_have_text(payload)
    expect(page.locator("#journal")).to_contain_text(payload)
    assert not dialogs


def test_document_page_highlights_measures(open_page, supervisor, measure, live_server):
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/documents/{measure.document_id}/")
    expect(page.locator("mark")).to_contain_text("健全低保动态管理机制")


def test_demo_pages_render_and_are_photographed(open_page, live_server, freeze_today, shots):
    """The README's screenshots: the seeds imported, the demo bureau loaded."""
    from django.core.management import call_command

    from tracker.models import User

    call_command("seed_measures", "seeds", stdout=StringIO())
    call_command("loaddata", "demo", verbosity=0)
    measure = Measure.objects.filter(progress_updates__isnull=False, deadline__isnull=False).first()
    document = measure.document
    pages = {
        "overdue": "/overdue/",
        "ledger": "/measures/",
        "measure": f"/measures/{measure.pk}/",
        "document": f"/documents/{document.pk}/",
        "report": "/reports/monthly/?month=2026-11",
        "import": "/measures/import/",
    }
    page = open_page(User.objects.get(username="ducha"), password="demo2026")
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        if name == "document":
            expect(page.locator("mark").first).to_be_visible()
        page.screenshot(path=str(shots / f"{name}.png"), full_page=name != "ledger")
    page = open_page(User.objects.get(username="zhangmin"), password="demo2026")
    expect(page.locator("h1")).to_have_text("我的事项")
    expect(page.locator("tr.group").first).to_be_visible()
    page.screenshot(path=str(shots / "my.png"), full_page=True)


# The 督办 workflow -------------------------------------------------------------------------


def test_request_an_extension_and_approve_it(open_page, staff, supervisor, measure, live_server):
    url = f"{live_server.url}/measures/{measure.pk}/"
    owner = open_page(staff)
    owner.goto(url)
    owner.click("text=申请延期")
    owner.fill("#workflow input[name=deadline]", "2027-01-31")
    owner.fill("#workflow textarea[name=reason]", "涉及跨部门协调")
    owner.click("text=提交延期申请")
    expect(owner.locator("#workflow")).to_contain_text(
        "超期申请已提交"
    )  # deadline 2026-10-31 passed

    boss = open_page(supervisor)
    boss.goto(f"{live_server.url}/overdue/")
    expect(boss.locator("#dashboard-summary")).to_contain_text("超期申请")
    boss.goto(url)
    mark_page(boss)
    boss.fill("#workflow input[name=comment]", "同意延期")
    boss.get_by_role("button", name="批准延期").click()
    expect(boss.locator("#workflow")).to_contain_text("已批准延期至 2027-01-31")
    expect(boss.locator("#workflow")).to_contain_text("原定 2026-10-31")
    expect(boss.locator("#history")).to_contain_text("批准延期。同意延期")
    assert_not_reloaded(boss)
    measure.refresh_from_db()
    assert (measure.deadline, measure.original_deadline) == (date(2027, 1, 31), date(2026, 10, 31))


def test_sign_off_with_an_attachment_and_send_it_back(
    open_page, staff, supervisor, measure, live_server, tmp_path, settings, shots
):
    settings.MEDIA_ROOT = tmp_path / "media"
    evidence = tmp_path / "完成报告.pdf"
    evidence.write_bytes(b"%PDF-1.4\n%%EOF\n")
    url = f"{live_server.url}/measures/{measure.pk}/"
    owner = open_page(staff)
    owner.goto(url)
    owner.click("text=申请办结")
    owner.fill("#workflow textarea[name=summary]", "低保动态管理机制已建立")
    owner.set_input_files("#workflow input[name=files]", str(evidence))
    owner.click("text=提交办结申请")
    expect(owner.locator("#workflow")).to_contain_text("办结申请已提交")
    expect(owner.locator("#workflow")).to_contain_text("完成报告.pdf")

    boss = open_page(supervisor)
    boss.goto(url)
    boss.screenshot(path=str(shots / "signoff.png"), full_page=True)
    with boss.expect_download() as download:
        boss.click("#workflow .attachments a")
    assert download.value.suggested_filename == "完成报告.pdf"
    send_back = boss.get_by_role("button", name="退回重办")
    send_back.click()
    expect(boss.locator("#workflow")).to_contain_text("退回重办须写明理由")
    boss.fill("#workflow .pending input[name=comment]", "缺少现场照片")
    send_back.click()
    expect(boss.locator("#workflow")).to_contain_text("已退回重办")
    measure.refresh_from_db()
    assert measure.status == Measure.Status.IN_PROGRESS


def test_lights_change_on_the_dashboard(open_page, supervisor, measure, freeze_today, live_server):
    page = open_page(supervisor)
    mark_page(page)
    red = page.locator("[data-light=red]")
    expect(red).to_have_text("1")
    page.locator(f"#measure-{measure.pk} select[name=status]").select_option("suspended")
    expect(red).to_have_text("0")
    assert_not_reloaded(page)


def test_edit_form_follows_changes_made_elsewhere_on_the_page(
    open_page, supervisor, measure, live_server
):
    """A progress report bumps the version; the edit form reloads, so saving it is no conflict."""
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/measures/{measure.pk}/")
    mark_page(page)
    page.fill("#id_progress", "已召开部署会")
    page.click("text=提交进展")
    expect(page.locator("#journal .journal")).to_contain_text("已召开部署会")
    expect(page.locator("#id_status")).to_have_value("in_progress")  # the form reloaded
    page.fill("#id_deadline", "2027-04-30")
    page.click("#edit-form button[type=submit]")
    expect(page.locator("#history")).to_contain_text("2027-04-30")
    expect(page.locator(".conflict")).to_have_count(0)
    assert_not_reloaded(page)
    measure.refresh_from_db()
    assert measure.deadline == date(2027, 4, 30)
