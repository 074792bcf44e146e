"""The month calendar (/calendar/) and the personal iCalendar feed (/calendar/<token>.ics)."""

import json
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from tracker import calendars, lights
from tracker.models import Measure, User

from .conftest import HTMX, TODAY, client_for, grow_ledger, make_measure

pytestmark = pytest.mark.django_db

CALENDAR = "/calendar/"


def day_cell(html, day):
    """The <td> of one date on the month grid."""
    match = re.search(rf'<td class="cal-day[^"]*" data-date="{day}".*?</td>', html, re.S)
    assert match, day
    return match.group(0)


def grow(document, units, staff, total):
    grow_ledger(
        document,
        units,
        staff,
        total,
        lambda i: {
            "recheck_on": TODAY + timedelta(days=i % 7),
            "status": "done" if i % 5 == 0 else "in_progress",
            "report_cadence": ("weekly", "monthly", "quarterly")[i % 3],
            "report_day": (i % 7) + 1,
        },
    )


# Report due dates ----------------------------------------------------------------------------


def test_weekly_due_dates_fall_on_the_iso_weekday():
    dates = lights.report_due_dates("weekly", 3, date(2026, 11, 1), date(2026, 11, 30))
    assert dates == tuple(date(2026, 11, d) for d in (4, 11, 18, 25))
    assert all(d.isoweekday() == 3 for d in dates)


def test_monthly_and_quarterly_due_dates():
    year = (date(2026, 1, 1), date(2026, 12, 31))
    assert lights.report_due_dates("monthly", 28, *year) == tuple(
        date(2026, m, 28) for m in range(1, 13)
    )
    assert lights.report_due_dates("quarterly", 15, *year) == tuple(
        date(2026, m, 15) for m in (3, 6, 9, 12)
    )
    assert lights.report_due_dates("quarterly", 15, date(2026, 4, 1), date(2026, 5, 31)) == ()


def test_due_dates_include_both_ends_and_agree_with_the_lights():
    assert lights.report_due_dates("monthly", 5, date(2026, 3, 5), date(2026, 4, 5)) == (
        date(2026, 3, 5),
        date(2026, 4, 5),
    )
    # Whatever the cycle, the latest date before a day is the one the 未按时报送 rule uses.
    today = date(2027, 2, 14)
    for cadence, days in lights.CYCLE_DAYS.items():
        for day in days:
            found = lights.report_due_dates(cadence, day, today - timedelta(days=200), today)
            before = [d for d in found if d < today]
            assert before[-1] == lights.due_dates_before(cadence, day, today)[0]


def test_no_cycle_no_dates():
    assert lights.report_due_dates("", None, date(2026, 1, 1), date(2026, 12, 31)) == ()


# The month page ------------------------------------------------------------------------------


def test_a_deadline_shows_on_its_day_and_links_to_the_measure(supervisor, measure, freeze_today):
    html = client_for(supervisor).get(CALENDAR, {"month": "2026-10"}).content.decode()
    cell = day_cell(html, "2026-10-31")
    assert "健全低保动态管理机制" in cell
    assert reverse("measure_detail", args=[measure.pk]) in cell
    assert "完成时限" in cell and "overdue" in cell  # past and still open
    assert "健全低保动态管理机制" not in day_cell(html, "2026-10-30")
    assert "2026年10月" in html


def test_this_month_is_the_default_and_today_is_marked(supervisor, measure, freeze_today):
    html = client_for(supervisor).get(CALENDAR).content.decode()
    assert "2026年11月" in html
    today = day_cell(html, "2026-11-22")
    assert 'aria-current="date"' in today and "今天" in today
    assert 'aria-current="date"' not in day_cell(html, "2026-11-21")
    # Weeks start on Monday: 2026-11-01 is a Sunday, so the grid opens on 2026-10-26.
    assert html.index('data-date="2026-10-26"') < html.index('data-date="2026-11-01"')


def test_previous_and_next_month_links_keep_the_filters(supervisor, units, freeze_today):
    html = client_for(supervisor).get(CALENDAR, {"month": "2026-01", "unit": units["aid"].pk})
    html = html.content.decode()
    assert f'href="?unit={units["aid"].pk}&amp;month=2025-12" rel="prev"' in html
    assert f'href="?unit={units["aid"].pk}&amp;month=2026-02" rel="next"' in html
    assert f'href="/measures/?unit={units["aid"].pk}"' in html  # the same filters in the ledger


@pytest.mark.parametrize("month", ["2026-13", "abc", "2026", "99999-01"])
def test_a_malformed_month_is_a_chinese_400(supervisor, month):
    response = client_for(supervisor).get(CALENDAR, {"month": month})
    assert response.status_code == 400
    assert "月份格式应为 YYYY-MM" in response.content.decode()


def test_report_due_dates_and_rechecks_show(supervisor, document, units, staff, freeze_today):
    weekly = make_measure(
        document, 3, "每周五报送", unit=units["aid"], report_cadence="weekly", report_day=5
    )
    quarterly = make_measure(
        document, 4, "季度报送", unit=units["aid"], report_cadence="quarterly", report_day=10
    )
    make_measure(
        document, 5, "已办结回头看", status="done", recheck_on=date(2026, 11, 25), unit=units["aid"]
    )
    html = client_for(supervisor).get(CALENDAR, {"month": "2026-11"}).content.decode()
    assert "每周五报送" in day_cell(html, "2026-11-27")  # a Friday after today
    assert "每周五报送" not in day_cell(html, "2026-11-20")  # past due dates are not "next"
    assert "季度报送" not in html  # next due 2026-12-10
    assert "已办结回头看" in day_cell(html, "2026-11-25")
    assert "回头看" in day_cell(html, "2026-11-25")
    december = client_for(supervisor).get(CALENDAR, {"month": "2026-12"}).content.decode()
    assert "季度报送" in day_cell(december, "2026-12-10")
    for friday in (4, 11, 18, 25):
        assert "每周五报送" in day_cell(december, f"2026-12-{friday:02d}")
    assert reverse("measure_detail", args=[weekly.pk]) in december
    assert reverse("measure_detail", args=[quarterly.pk]) in december


def test_closed_and_archived_measures_have_no_deadlines(supervisor, document, units, freeze_today):
    make_measure(document, 3, "已办结事项", status="done", deadline=date(2026, 11, 24))
    make_measure(document, 4, "暂缓事项", status="suspended", deadline=date(2026, 11, 24))
    make_measure(
        document,
        5,
        "已归档事项",
        deadline=date(2026, 11, 24),
        archived_at=date(2026, 11, 1).isoformat() + "T00:00:00+08:00",
    )
    html = client_for(supervisor).get(CALENDAR).content.decode()
    cell = day_cell(html, "2026-11-24")
    for title in ("已办结事项", "暂缓事项", "已归档事项"):
        assert title not in cell


def test_filtered_like_the_ledger(supervisor, measure, care_measure, units, freeze_today):
    Measure.objects.filter(pk=care_measure.pk).update(deadline=date(2026, 10, 31))
    client = client_for(supervisor)
    both = day_cell(client.get(CALENDAR, {"month": "2026-10"}).content.decode(), "2026-10-31")
    assert "健全低保动态管理机制" in both and "规范临时救助审批" in both
    html = client.get(CALENDAR, {"month": "2026-10", "unit": units["care"].pk}).content.decode()
    cell = day_cell(html, "2026-10-31")
    assert "规范临时救助审批" in cell and "健全低保动态管理机制" not in cell
    html = client.get(CALENDAR, {"month": "2026-10", "owner": measure.owner_id}).content.decode()
    cell = day_cell(html, "2026-10-31")
    assert "健全低保动态管理机制" in cell and "规范临时救助审批" not in cell
    assert f'<option value="{units["care"].pk}">' in html  # the filter form is there


def test_staff_see_what_the_ledger_shows_them(staff, measure, care_measure, freeze_today):
    Measure.objects.filter(pk=care_measure.pk).update(deadline=date(2026, 10, 31))
    client = client_for(staff)
    ledger = client.get(reverse("measure_list")).content.decode()
    cell = day_cell(client.get(CALENDAR, {"month": "2026-10"}).content.decode(), "2026-10-31")
    for m in (measure, care_measure):
        assert (f'id="measure-{m.pk}"' in ledger) == (m.title in cell)


def test_a_busy_day_shows_a_few_and_links_to_all(supervisor, document, units, freeze_today):
    for i in range(calendars.DAY_CAP + 3):
        make_measure(document, 10 + i, f"同日到期{i}", unit=units["aid"], deadline=TODAY)
    client = client_for(supervisor)
    html = client.get(CALENDAR, {"unit": units["aid"].pk}).content.decode()
    cell = day_cell(html, "2026-11-22")
    assert cell.count('<li class="cal-entry') == calendars.DAY_CAP
    assert "还有 3 项" in cell
    link = re.search(r'<a class="more" href="([^"]+)"', cell).group(1).replace("&amp;", "&")
    assert link == f"?unit={units['aid'].pk}&month=2026-11&day=2026-11-22#day-list"
    full = client.get(CALENDAR + link.split("#")[0]).content.decode()
    day_list = full.split('id="day-list"', 1)[1]
    assert "2026-11-22 全部 7 项" in day_list
    assert all(f"同日到期{i}" in day_list for i in range(calendars.DAY_CAP + 3))


def test_a_day_outside_the_month_lists_nothing(supervisor, freeze_today):
    html = client_for(supervisor).get(CALENDAR, {"month": "2026-11", "day": "2026-12-01"})
    assert 'id="day-list"' not in html.content.decode()


def test_calendar_needs_sign_in(client):
    response = client.get(CALENDAR)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_nav_links_the_calendar(staff):
    html = client_for(staff).get(CALENDAR).content.decode()
    assert '<a href="/calendar/" aria-current="page">日历</a>' in html


def test_the_month_costs_the_same_queries_for_20_and_200_measures(
    supervisor, staff, document, units, freeze_today, django_assert_num_queries
):
    client = client_for(supervisor)
    client.get(CALENDAR)  # the session's first write is not the page's cost
    grow(document, units, staff, 20)
    with CaptureQueriesContext(connection) as small:
        client.get(CALENDAR, {"unit": units["aid"].pk})
    grow(document, units, staff, 200)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(CALENDAR, {"unit": units["aid"].pk})
    assert response.status_code == 200
    assert len(small.captured_queries) <= 14


# The feed address ---------------------------------------------------------------------------


def test_create_then_reset_the_feed_address(staff):
    client = client_for(staff)
    html = client.get(CALENDAR).content.decode()
    assert "尚未生成订阅地址" in html and "生成订阅地址</button>" in html
    response = client.post(reverse("calendar_token"))
    assert response.status_code == 302 and response["Location"] == CALENDAR
    staff.refresh_from_db()
    first = staff.calendar_token
    assert first and len(first) >= 40
    html = client.get(CALENDAR).content.decode()
    assert f"http://127.0.0.1:8000/calendar/{first}.ics" in html
    assert "已生成订阅地址" in html
    # Replacing a working address is asked for first: without JavaScript on a second page.
    response = client.post(reverse("calendar_token"))
    assert response["Location"] == f"{CALENDAR}?confirm_reset=1#calendar-feed"
    staff.refresh_from_db()
    assert staff.calendar_token == first
    html = client.get(f"{CALENDAR}?confirm_reset=1").content.decode()
    assert "确认重置</button>" in html and 'name="confirm" value="1"' in html
    response = client.post(reverse("calendar_token"), {"confirm": "1"}, **HTMX)
    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.calendar_token != first
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar-feed"')
    assert staff.calendar_token in html and first not in html
    assert "原地址已失效" in html
    assert "calendarTokenReset" in json.loads(response.headers["HX-Trigger"])


def test_tokens_are_long_and_unguessable(staff, supervisor):
    tokens = {staff.reset_calendar_token(), supervisor.reset_calendar_token()}
    tokens |= {staff.reset_calendar_token() for _ in range(20)}
    assert len(tokens) == 22
    assert all(len(t) >= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)


def test_token_reset_is_a_signed_in_post(client, staff):
    assert client.post(reverse("calendar_token")).status_code == 302
    assert client_for(staff).get(reverse("calendar_token")).status_code == 405
    staff.refresh_from_db()
    assert staff.calendar_token is None


# The .ics feed ------------------------------------------------------------------------------


def feed(client, user):
    response = client.get(reverse("calendar_feed", args=[user.calendar_token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_the_feed_holds_the_owners_deadlines_and_report_dates(
    client, staff, measure, care_measure, document, units, freeze_today
):
    weekly = make_measure(
        document,
        3,
        "每周一报送",
        unit=units["aid"],
        owner=staff,
        report_cadence="weekly",
        report_day=1,
        deadline=date(2027, 3, 31),
    )
    staff.reset_calendar_token()
    cal = feed(client, staff)  # no session: the token is the credential
    assert str(cal["X-WR-CALNAME"]) == f"督办台账 · {staff}"
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    found = events(cal)
    deadline = found[f"measure-{measure.pk}-deadline@ducha"]
    assert str(deadline["SUMMARY"]) == "完成时限：健全低保动态管理机制"
    assert deadline.decoded("DTSTART") == date(2026, 10, 31)  # all-day: a date, no time
    assert deadline.decoded("DTEND") == date(2026, 11, 1)
    assert str(deadline["URL"]) == f"http://127.0.0.1:8000/measures/{measure.pk}/"
    assert f"measure-{care_measure.pk}-deadline@ducha" not in found  # someone else's
    reports = sorted(
        e.decoded("DTSTART")
        for uid, e in found.items()
        if uid.startswith(f"measure-{weekly.pk}-report-")
    )
    assert reports[0] == date(2026, 11, 23)  # the next Monday
    assert reports[-1] <= TODAY + timedelta(days=90)
    assert len(reports) == 13
    assert all(d.isoweekday() == 1 for d in reports)
    monday = found[f"measure-{weekly.pk}-report-20261123@ducha"]
    assert str(monday["SUMMARY"]) == "报送进展：每周一报送"
    assert f"measure-{weekly.pk}-deadline@ducha" in found


def test_uids_are_stable_between_fetches(client, staff, measure, freeze_today):
    staff.reset_calendar_token()
    assert events(feed(client, staff)).keys() == events(feed(client, staff)).keys()


def test_a_supervisors_feed_holds_every_open_measure(
    client, supervisor, measure, care_measure, document, freeze_today
):
    Measure.objects.filter(pk=care_measure.pk).update(deadline=date(2026, 12, 15))
    make_measure(document, 3, "已办结", status="done", deadline=date(2026, 12, 1))
    supervisor.reset_calendar_token()
    found = events(feed(client, supervisor))
    assert {f"measure-{m.pk}-deadline@ducha" for m in (measure, care_measure)} <= found.keys()
    assert not any("已办结" in str(e["SUMMARY"]) for e in found.values())


def test_the_feed_is_capped(client, supervisor, staff, document, units, freeze_today, monkeypatch):
    grow(document, units, staff, 60)
    supervisor.reset_calendar_token()
    monkeypatch.setattr(calendars, "FEED_CAP", 25)
    found = events(feed(client, supervisor))
    assert len(found) == 25
    # The nearest to today are kept, overdue ones and report dates alike; deadlines run
    # from 20 days back to 19 ahead, so the far ends are what the cap cuts.
    days = [abs((event.decoded("DTSTART") - TODAY).days) for event in found.values()]
    assert max(days) <= 10
    assert any("-report-" in uid for uid in found)


def test_unknown_and_old_tokens_are_404(client, staff, measure):
    old = staff.reset_calendar_token()
    assert client.get(reverse("calendar_feed", args=[old])).status_code == 200
    new = staff.reset_calendar_token()
    assert client.get(reverse("calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("calendar_feed", args=[new])).status_code == 200
    assert client.get(reverse("calendar_feed", args=["x" * 43])).status_code == 404
    assert client.get("/calendar/None.ics").status_code == 404


def test_an_inactive_persons_feed_stops(client, staff, measure):
    token = staff.reset_calendar_token()
    User.objects.filter(pk=staff.pk).update(is_active=False)
    assert client.get(reverse("calendar_feed", args=[token])).status_code == 404


def test_the_feed_is_kept_by_no_cache(client, staff):
    token = staff.reset_calendar_token()
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response["Cache-Control"] == "private, no-store"


def test_the_feed_costs_the_same_queries_for_20_and_200_measures(
    client, supervisor, staff, document, units, freeze_today, django_assert_num_queries
):
    supervisor.reset_calendar_token()
    url = reverse("calendar_feed", args=[supervisor.calendar_token])
    grow(document, units, staff, 20)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow(document, units, staff, 200)
    with django_assert_num_queries(len(small.captured_queries)):
        cal = Calendar.from_ical(client.get(url).content)
    assert len(small.captured_queries) <= 5
    assert len(cal.walk("VEVENT")) > 200
