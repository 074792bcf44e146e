"""Layout in a real browser: phones at 390 px, the ledger on a 1366×768 office screen, print.

Boxes and widths are measured, never screenshots compared; screenshots are only written for
the README (`make screenshots`).
"""

from datetime import date, timedelta
from io import StringIO

import pytest
from playwright.sync_api import expect

from tracker.models import Attachment, Measure, ProgressUpdate, User

from .conftest import assert_not_reloaded, make_measure, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

# Everything a finger must hit: menu links, buttons, fields (not the bulk tick boxes).
TAP_TARGETS = """() => [...document.querySelectorAll(
    '.topbar a, .topbar button, .menu-button, main a.button, main button, main select, main textarea,'
    + ' main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), details.action > summary')]
  .filter((e) => e.offsetParent !== null)
  .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])"""


def scroll_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def assert_fits_a_phone(page):
    assert scroll_width(page) <= PHONE["width"], page.url
    small = [(html, height) for html, height in page.evaluate(TAP_TARGETS) if height < 40]
    assert not small, small


def open_menu(page):
    nav = page.locator("#site-nav")
    expect(nav).to_be_hidden()
    page.click(".menu-button")
    expect(nav).to_be_visible()


@pytest.fixture
def busy_day(document, units, staff, supervisor, measure):
    """A 责任人 with overdue work, a report, a reminder in the inbox."""
    make_measure(
        document,
        2,
        "规范临时救助审批，推行“一门受理、协同办理”，做到应救尽救、应帮尽帮、及时救助",
        text="二是规范临时救助审批。",
        unit=units["aid"],
        owner=staff,
        deadline=date(2027, 3, 31),
    )
    ProgressUpdate.objects.create(
        measure=measure,
        author=staff,
        progress="已完成全部低保对象的年度复核，正在整理台账",
        percent=60,
    )
    measure.remind(supervisor, "请本周内报送整改情况")
    return measure


# Phones ---------------------------------------------------------------------------------


def test_my_measures_inbox_and_the_measure_fit_a_phone(open_page, staff, busy_day, live_server):
    page = open_page(staff)
    page.set_viewport_size(PHONE)
    for path in ["/my/", "/inbox/", f"/measures/{busy_day.pk}/"]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        assert_fits_a_phone(page)
        open_menu(page)
        assert_fits_a_phone(page)  # the opened menu too
    # The forms a 责任人 fills in on site: progress, 申请延期, 申请办结.
    page.click("text=申请延期")
    page.click("text=申请办结")
    expect(page.locator("#workflow textarea[name=summary]")).to_be_visible()
    assert_fits_a_phone(page)


def test_the_menu_opens_without_javascript(open_page, staff, measure, live_server):
    page = open_page(staff, javascript=False)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/my/")
    open_menu(page)
    page.locator("#site-nav a", has_text="督办台账").click()
    expect(page).to_have_url(f"{live_server.url}/measures/")


def test_the_menu_is_a_row_on_an_office_screen(open_page, leader, measure, live_server):
    page = open_page(leader)
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/overdue/")
    expect(page.locator(".menu-button")).to_be_hidden()
    links = page.locator("#site-nav a")
    expect(links.first).to_be_visible()
    tops = {round(box["y"]) for box in (links.nth(i).bounding_box() for i in range(links.count()))}
    assert len(tops) == 1  # one row, no link broken into vertical characters
    expect(page.locator("#site-nav")).not_to_contain_text("我的事项")  # a leader owns nothing


def test_report_progress_and_sign_off_with_a_camera_photo_on_a_phone(
    open_page, staff, measure, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = tmp_path / "image.jpg"
    photo.write_bytes(JPEG)
    page = open_page(staff)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/measures/{measure.pk}/")
    mark_page(page)
    expect(page.locator("#status-tag")).to_have_text("未启动")
    page.fill("#id_progress", "现场核查完毕")
    page.fill("#id_percent", "100")
    page.click("text=提交进展")
    # The tag beside the title follows the change (measureUpdated).
    expect(page.locator("#status-tag")).to_have_text("推进中")
    expect(page.locator("#workflow")).to_contain_text("推进中")  # reloaded: safe to open
    page.click("text=申请办结")
    camera = page.locator("#workflow input[name=photo]")
    assert camera.get_attribute("capture") == "environment"
    assert camera.get_attribute("accept") == "image/*"
    page.fill("#workflow textarea[name=summary]", "已按期完成")
    camera.set_input_files(str(photo))
    page.click("text=提交办结申请")
    expect(page.locator("#workflow")).to_contain_text("办结申请已提交")
    expect(page.locator("#workflow")).to_contain_text("办结申请待审核")
    expect(page.locator("#status-tag")).to_have_text("待审核")
    assert_fits_a_phone(page)
    assert_not_reloaded(page)
    assert Attachment.objects.get().original_name == "image.jpg"


def test_the_percent_field_refuses_more_than_100(open_page, staff, measure, live_server):
    page = open_page(staff)
    page.goto(f"{live_server.url}/measures/{measure.pk}/")
    page.fill("#id_progress", "已部署")
    page.fill("#id_percent", "150")
    assert not page.locator("#id_percent").evaluate("(input) => input.checkValidity()")


# The ledger on an office screen ----------------------------------------------------------


@pytest.fixture
def full_ledger(document, units, staff, other_staff, supervisor):
    """Two dozen measures as the ledger holds them: long titles, reports, overdue ones."""
    long = "，统筹推进城乡社会救助体系建设，完善分层分类的社会救助体系，健全主动发现机制"
    measures = []
    for n in range(24):
        owner = staff if n % 2 else other_staff
        measure = make_measure(
            document,
            n + 1,
            f"第{n + 1}项督办事项" + (long * 2 if n % 4 == 0 else ""),
            text=f"第{n + 1}项。",
            unit=units["aid" if n % 2 else "care"],
            owner=owner,
            deadline=date(2026, 10, 1) + timedelta(days=20 * n),
        )
        if n % 3 == 0:
            ProgressUpdate.objects.create(
                measure=measure, author=owner, progress="已召开部署会，印发工作方案，" * 3
            )
        measures.append(measure)
    return measures


def rows_on_screen(page):
    """Ledger rows whose bottom is on screen, and those not hidden by the bulk bar."""
    return page.evaluate(
        """() => {
          const rows = [...document.querySelectorAll('#ledger tbody tr[id^=measure-]')];
          const bar = document.querySelector('#bulk-form');
          const barTop = bar ? bar.getBoundingClientRect().top : innerHeight;
          const bottoms = rows.map((r) => r.getBoundingClientRect().bottom);
          return [bottoms.filter((b) => b <= innerHeight).length, bottoms.filter((b) => b <= barTop).length];
        }"""
    )


def test_a_dozen_ledger_rows_above_the_fold(
    open_page, supervisor, full_ledger, freeze_today, live_server
):
    page = open_page(supervisor)
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/measures/")
    expect(page.locator("#ledger tbody tr[id^=measure-]")).to_have_count(24)
    assert scroll_width(page) <= OFFICE["width"]
    on_screen, above_bar = rows_on_screen(page)
    assert on_screen >= 12 and above_bar >= 12, (on_screen, above_bar)
    # The bulk bar sits at the bottom of the window, whole.
    bar = page.locator("#bulk-form").bounding_box()
    assert bar["y"] + bar["height"] <= OFFICE["height"] + 1 and bar["y"] > OFFICE["height"] / 2
    # 来源 is one short line with the full path on hover; long titles stop at two lines.
    source = page.locator("#ledger td.source").first
    assert "›" in source.get_attribute("title")
    line = page.locator("#ledger td.num").first.evaluate(
        "(td) => parseFloat(getComputedStyle(td).lineHeight)"
    )
    assert source.evaluate("(td) => td.clientHeight") < 2 * line + 10
    title = page.locator(f"#t{full_ledger[0].pk}")
    assert title.evaluate("(a) => a.scrollHeight > a.clientHeight")  # clamped
    assert title.evaluate("(a) => a.clientHeight") <= 2 * line + 1
    page.locator(f"#measure-{full_ledger[0].pk} td.task summary").click(position={"x": 4, "y": 8})
    expect(
        page.locator(f"#measure-{full_ledger[0].pk} td.task details .source-text")
    ).to_contain_text("第1项。")
    assert title.evaluate("(a) => a.scrollHeight <= a.clientHeight")  # 展开: whole


def test_the_dashboard_does_not_scroll_sideways(
    open_page, supervisor, full_ledger, freeze_today, live_server
):
    page = open_page(supervisor)
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/overdue/")
    expect(page.locator("h1")).to_have_text("逾期督办")
    assert scroll_width(page) <= OFFICE["width"]
    # On a phone the wide tables scroll inside their cards, never the page.
    page.set_viewport_size(PHONE)
    assert scroll_width(page) <= PHONE["width"]
    page.goto(f"{live_server.url}/measures/")
    assert scroll_width(page) <= PHONE["width"]


def test_the_bulk_bar_counts_ticks_and_clears_them_after_a_run(
    open_page, supervisor, full_ledger, live_server
):
    page = open_page(supervisor)
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/measures/")
    mark_page(page)
    count = page.locator("#bulk-count")
    expect(count).to_have_text("已选 0 项")
    first, second = full_ledger[0], full_ledger[1]
    page.check(f"#measure-{first.pk} input[name=ids]")
    page.check(f"#measure-{second.pk} input[name=ids]")
    expect(count).to_have_text("已选 2 项")
    page.check("[data-select-all=ids]")
    expect(count).to_have_text("已选 24 项")
    page.uncheck("[data-select-all=ids]")
    expect(count).to_have_text("已选 0 项")
    # An error keeps the ticks, for a retry.
    page.check(f"#measure-{first.pk} input[name=ids]")
    page.click("#bulk-form button[type=submit]")
    expect(page.locator("#bulk-errors")).to_contain_text("请至少选择一项要修改的内容")
    expect(count).to_have_text("已选 1 项")
    page.select_option("#bulk-form select[name=status]", "suspended")
    page.click("#bulk-form button[type=submit]")
    expect(page.locator("#bulk-errors")).to_contain_text("已批量修改 1 项")
    expect(count).to_have_text("已选 0 项")
    expect(page.locator("#ledger input[name=ids]:checked")).to_have_count(0)
    assert_not_reloaded(page)
    first.refresh_from_db()
    assert first.status == Measure.Status.SUSPENDED


def test_an_inline_save_says_so_on_its_row(open_page, supervisor, measure, live_server):
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/measures/")
    page.locator(f"#measure-{measure.pk} select[name=status]").select_option("in_progress")
    expect(page.locator(f"#measure-{measure.pk} .saved-note")).to_have_text("已保存")
    expect(page.locator(f"#measure-{measure.pk}.saved")).to_have_count(1)


def test_the_printed_ledger_names_its_filters_and_hides_the_controls(
    open_page, supervisor, measure, care_measure, freeze_today, live_server
):
    page = open_page(supervisor)
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/measures/?light=red&unit={measure.unit_id}")
    printed = page.locator(".print-filters")
    expect(printed).to_be_hidden()
    page.emulate_media(media="print")
    for control in ["#filters", "#bulk-form", ".topbar", f"#measure-{measure.pk} td.actions"]:
        expect(page.locator(control)).to_be_hidden()
    expect(printed).to_be_visible()
    expect(printed).to_contain_text("亮灯：红灯")
    expect(printed).to_contain_text("牵头单位：社会救助司")
    # The status select prints as its text, without the drop-down arrow or a box.
    select = page.locator(f"#measure-{measure.pk} select[name=status]")
    assert select.evaluate("(s) => getComputedStyle(s).appearance") == "none"
    assert select.evaluate("(s) => getComputedStyle(s).borderTopStyle") == "none"


# README screenshots ----------------------------------------------------------------------


def test_readme_screenshots_at_1366_and_390(open_page, live_server, freeze_today, shots):
    """What the README shows: the office screen at 1366×768 and a phone at 390 px."""
    from django.core.management import call_command

    call_command("seed_measures", "seeds", stdout=StringIO())
    call_command("loaddata", "demo", verbosity=0)
    measure = Measure.objects.filter(progress_updates__isnull=False, deadline__isnull=False).first()
    office = {
        "overdue": "/overdue/",
        "ledger": "/measures/",
        "measure": f"/measures/{measure.pk}/",
        "document": f"/documents/{measure.document_id}/",
        "report": "/reports/monthly/?month=2026-11",
        "import": "/measures/import/",
    }
    page = open_page(User.objects.get(username="ducha"), password="demo2026")
    page.set_viewport_size(OFFICE)
    for name, path in office.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        page.screenshot(path=str(shots / f"{name}.png"), full_page=name != "ledger")
        assert scroll_width(page) <= OFFICE["width"], path
    page = open_page(User.objects.get(username="zhangmin"), password="demo2026")
    page.set_viewport_size(OFFICE)
    page.goto(f"{live_server.url}/my/")
    page.screenshot(path=str(shots / "my.png"), full_page=True)
    page.set_viewport_size(PHONE)
    own = Measure.objects.filter(owner__username="zhangmin").first()
    for name, path in {
        "phone-my": "/my/",
        "phone-measure": f"/measures/{own.pk}/",
        "phone-inbox": "/inbox/",
    }.items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_be_visible()
        assert scroll_width(page) <= PHONE["width"], path
        page.screenshot(path=str(shots / f"{name}.png"))
    page.click(".menu-button")
    page.screenshot(path=str(shots / "phone-menu.png"))


def test_unit_remind_asks_before_it_sends(
    open_page, supervisor, staff, measure, freeze_today, live_server
):
    from tracker.models import Reminder

    page = open_page(supervisor)
    page.goto(f"{live_server.url}/overdue/")
    mark_page(page)
    page.get_by_role("button", name="催办逾期 1 项").click()
    expect(page.locator("form.confirm")).to_contain_text("确认催办 1 项？将提醒 1 位责任人。")
    assert not Reminder.objects.exists()
    page.get_by_role("button", name="确认催办").click()
    expect(page.locator("#dashboard-summary")).to_contain_text("已催办社会救助司逾期事项 1 项")
    assert_not_reloaded(page)
    assert Reminder.objects.get().recipient == staff
