"""Browser tests of the daily flow: the inbox badge, the 待交办 queue, a 批示 and its answer."""

import pytest
from playwright.sync_api import expect

from tracker.models import Instruction, Measure, Notification

from .conftest import assert_not_reloaded, make_measure, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inbox_badge_goes_up_and_down(open_page, staff, supervisor, measure, live_server):
    page = open_page(staff)
    badge = page.locator("#inbox-badge")
    expect(badge).to_have_text("待办")
    measure.remind(supervisor, "请尽快报送")
    # The badge also listens for measureUpdated: a page action brings the new count.
    page.goto(f"{live_server.url}/measures/{measure.pk}/")
    mark_page(page)
    expect(badge.locator(".count")).to_have_text("1")
    measure.remind(supervisor, "再次催办")
    page.fill("#id_progress", "已部署复核")
    page.click("text=提交进展")
    expect(badge.locator(".count")).to_have_text("2")
    page.click("#inbox-badge")
    expect(page.locator("li.notice.unread")).to_have_count(2)
    mark_page(page)
    page.locator("li.notice.unread button", has_text="标为已读").first.click()
    expect(page.locator("li.notice.unread")).to_have_count(1)
    expect(badge.locator(".count")).to_have_text("1")
    page.click("text=全部标为已读")
    expect(badge.locator(".count")).to_have_count(0)
    expect(page.locator("#inbox")).to_contain_text("没有未读通知")
    assert_not_reloaded(page)
    assert not staff.notifications.unread().exists()


def test_the_unassigned_queue_is_assigned_in_bulk(
    open_page, supervisor, staff, document, units, live_server
):
    for i in range(3):
        make_measure(document, 40 + i, f"待分配事项{i}", unit=units["aid"])
    make_measure(document, 50, "已分配事项", unit=units["aid"], owner=staff)
    page = open_page(supervisor)
    page.goto(f"{live_server.url}/overdue/")
    expect(page.locator("[data-total=unassigned]")).to_have_text("3")
    page.click("[data-total=unassigned]")
    rows = page.locator("#ledger tbody tr[id^=measure-]")
    expect(rows).to_have_count(3)
    expect(page.locator("#ledger")).to_contain_text("待交办")
    expect(page.locator("#id_assigned")).to_have_value("no")
    page.check("[data-select-all=ids]")
    page.select_option("#bulk-form select[name=owner]", str(staff.pk))
    page.click("#bulk-form button[type=submit]")
    expect(page.locator("#bulk-errors")).to_contain_text("已批量修改 3 项")
    expect(rows).to_have_count(0)  # the ledger reloads with the same filter: queue empty
    assert not Measure.objects.unassigned().exists()
    assert staff.notifications.filter(kind=Notification.Kind.ASSIGNED).count() == 3


def test_an_instruction_reaches_the_owner_and_is_answered(
    open_page, leader, staff, supervisor, measure, live_server
):
    boss = open_page(leader)
    boss.goto(f"{live_server.url}/measures/{measure.pk}/")
    boss.fill("#instructions textarea[name=text]", "请本周内完成全部复核")
    boss.click("text=作出批示")
    expect(boss.locator("#instructions")).to_contain_text("批示已送达")
    expect(boss.locator("#instructions")).to_contain_text("待回复")

    owner = open_page(staff)
    expect(owner.locator("#inbox-badge .count")).to_have_text("1")
    owner.click("#inbox-badge")
    expect(owner.locator("li.notice")).to_contain_text("请本周内完成全部复核")
    owner.click(f"li.notice a[href='/measures/{measure.pk}/']")
    mark_page(owner)
    instruction = Instruction.objects.get()
    expect(owner.locator("select[name=instruction]")).to_have_value(str(instruction.pk))
    owner.fill("#id_progress", "已完成全部低保对象复核")
    owner.click("text=提交进展")
    expect(owner.locator("#journal")).to_contain_text("回复 Lingdao 的批示")
    expect(owner.locator("#instructions")).to_contain_text("已回复")
    assert_not_reloaded(owner)

    boss.goto(f"{live_server.url}/overdue/")
    expect(boss.locator("#inbox-badge .count")).to_have_text("1")  # the answer
    expect(boss.locator("text=未回复的领导批示（0）")).to_be_visible()
