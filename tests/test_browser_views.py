"""Saved views and the calendar in a real browser (Playwright, Debian's Chromium)."""

import pytest
from playwright.sync_api import expect

from tracker.models import SavedView, User

from .conftest import assert_not_reloaded, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ledger_rows(page):
    return page.locator("#ledger tbody tr[id^=measure-]")


def expect_filters(page, **values):
    for name, value in values.items():
        expect(page.locator(f"#filters [name={name}]")).to_have_value(value)


def save_view(page, name):
    page.fill("#view_name", name)
    page.click("#view-save button[type=submit]")
    expect(page.locator("#view-tabs [aria-current=page]")).to_have_text(name)


def test_saved_views_survive_back_and_forward(
    open_page,  # noqa: F811
    staff,
    measure,
    care_measure,
    units,
    freeze_today,
    live_server,
):
    care = str(units["care"].pk)
    page = open_page(staff)
    page.goto(f"{live_server.url}/measures/")
    rows = ledger_rows(page)
    expect(rows).to_have_count(2)

    page.select_option("#id_due", "overdue")
    expect(rows).to_have_count(1)
    save_view(page, "逾期事项")
    page.select_option("#id_due", "")
    expect(rows).to_have_count(2)
    page.select_option("#id_unit", care)
    expect(rows).to_have_count(1)
    expect(page.locator("#view-tabs [aria-current=page]")).to_have_count(0)
    save_view(page, "养老司")
    assert {v.query for v in SavedView.objects.filter(owner=staff)} == {
        "due=overdue",
        f"unit={care}",
    }

    # Tabs are plain links: each opens the ledger with its filters.
    page.click("#view-tabs a:text-is('逾期事项')")
    expect(page).to_have_url(f"{live_server.url}/measures/?due=overdue")
    expect_filters(page, due="overdue", unit="")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#measure-{measure.pk}")).to_be_visible()
    page.click("#view-tabs a:text-is('养老司')")
    expect(page).to_have_url(f"{live_server.url}/measures/?unit={care}")
    expect_filters(page, due="", unit=care)

    # Two changes through htmx, then back one: htmx restores its snapshot of the page, whose
    # selects were last rendered for the tab; the controls must show the URL's filters.
    mark_page(page)
    page.select_option("#id_status", "not_started")
    expect(rows).to_have_count(1)
    page.select_option("#id_unit", "")
    expect(rows).to_have_count(2)
    page.go_back()
    expect_filters(page, status="not_started", unit=care, due="")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#measure-{care_measure.pk}")).to_be_visible()
    page.go_forward()
    expect_filters(page, status="not_started", unit="", due="")
    expect(rows).to_have_count(2)
    page.go_back()
    page.go_back()
    expect_filters(page, status="", unit=care, due="")
    expect(page.locator("#view-tabs [aria-current=page]")).to_have_text("养老司")
    assert_not_reloaded(page)

    # Back across pages to the first tab, then forward again.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/measures/?due=overdue")
    expect_filters(page, due="overdue", unit="", status="")
    expect(rows).to_have_count(1)
    expect(page.locator(f"#measure-{measure.pk}")).to_be_visible()
    expect(page.locator("#view-tabs [aria-current=page]")).to_have_text("逾期事项")
    page.go_forward()
    expect(page).to_have_url(f"{live_server.url}/measures/?unit={care}")
    expect_filters(page, due="", unit=care)
    expect(rows).to_have_count(1)
    expect(page.locator(f"#measure-{care_measure.pk}")).to_be_visible()


def test_the_calendar_shows_a_deadline_on_its_day(
    open_page,  # noqa: F811
    staff,
    measure,
    freeze_today,
    live_server,
):
    page = open_page(staff)
    page.click(".nav a:text-is('日历')")
    expect(page.locator("h1")).to_have_text("日历 · 2026年11月")
    expect(page.locator("td[aria-current=date]")).to_have_attribute("data-date", "2026-11-22")
    page.click("text=‹ 上月")
    expect(page.locator("h1")).to_have_text("日历 · 2026年10月")
    day = page.locator('td[data-date="2026-10-31"]')
    expect(day).to_contain_text("完成时限")
    expect(day).to_contain_text("健全低保动态管理机制")
    expect(page.locator('td[data-date="2026-10-30"]')).not_to_contain_text("健全低保")
    day.locator("a", has_text="健全低保动态管理机制").click()
    expect(page).to_have_url(f"{live_server.url}/measures/{measure.pk}/")


def test_the_feed_address_is_made_and_reset(
    open_page,  # noqa: F811
    staff,
    measure,
    live_server,
):
    page = open_page(staff)
    page.goto(f"{live_server.url}/calendar/")
    mark_page(page)
    page.get_by_role("button", name="生成订阅地址").click()
    address = page.locator("#calendar-feed .feed-url")
    expect(address).to_contain_text(".ics")
    first = User.objects.get(pk=staff.pk).calendar_token
    feed = page.request.get(f"{live_server.url}/calendar/{first}.ics")
    assert feed.ok and "完成时限：健全低保动态管理机制" in feed.text()
    page.on("dialog", lambda dialog: dialog.accept())  # 重置后原地址将失效，确定吗？
    page.get_by_role("button", name="重置订阅地址").click()
    expect(page.locator("#calendar-feed")).to_contain_text("原地址已失效")
    second = User.objects.get(pk=staff.pk).calendar_token
    assert second != first
    expect(address).to_contain_text(second)
    assert page.request.get(f"{live_server.url}/calendar/{first}.ics").status == 404
    assert_not_reloaded(page)
