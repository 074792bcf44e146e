"""The 待办 inbox: who is told of what, the badge, marking read, and /my/ as a worklist."""

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tracker.models import (
    ClosureRequest,
    ExtensionRequest,
    Measure,
    Notification,
    ProgressUpdate,
)

from .conftest import HTMX, TODAY, client_for, count_queries, grow_ledger, make_measure

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def kinds(user):
    return [n.kind for n in user.notifications.all()]


# Who is told ---------------------------------------------------------------------------


def test_assigning_an_owner_notifies_the_new_owner_only(supervisor, staff, document, units):
    m = make_measure(document, 5, "新任务", unit=units["aid"])
    m.edit(supervisor, {"owner": staff}, m.version)
    assert kinds(staff) == [Kind.ASSIGNED]
    assert kinds(supervisor) == []  # nobody is told of their own act
    m.refresh_from_db()
    m.edit(supervisor, {"deadline": TODAY}, m.version)
    assert kinds(staff) == [Kind.ASSIGNED]  # other edits are not an assignment


def test_a_reminder_reaches_the_owners_inbox(supervisor, staff, measure):
    measure.remind(supervisor, "请本周内报送")
    (notice,) = staff.notifications.all()
    assert notice.kind == Kind.REMINDED and notice.measure == measure
    assert "请本周内报送" in notice.text and notice.actor == supervisor


def test_requests_notify_supervisors_and_decisions_notify_the_owner(
    supervisor, staff, leader, measure
):
    measure.request_extension(staff, date(2026, 12, 31), "需协调财政资金", TODAY)
    assert kinds(supervisor) == [Kind.REQUESTED]
    assert kinds(leader) == []
    ExtensionRequest.objects.get().decide(supervisor, approve=True)
    assert kinds(staff) == [Kind.DECIDED]
    measure.refresh_from_db()
    measure.request_closure(staff, "已全部完成")
    assert kinds(supervisor) == [Kind.REQUESTED, Kind.REQUESTED]
    ClosureRequest.objects.get().decide(supervisor, approve=False, comment="佐证材料不足")
    assert staff.notifications.first().kind == Kind.RETURNED
    assert "佐证材料不足" in staff.notifications.first().text


def test_a_person_is_told_once_even_when_concerned_twice(supervisor, staff, measure):
    measure.request_extension(staff, date(2026, 12, 31), "理由", TODAY)
    # The requester is also the owner: one notice of the decision, not two.
    ExtensionRequest.objects.get().decide(supervisor, approve=False, comment="不同意")
    assert kinds(staff) == [Kind.DECIDED]


# The inbox page ------------------------------------------------------------------------


def test_the_inbox_shows_only_the_users_own_unread_notices(supervisor, staff, other_staff, measure):
    measure.remind(supervisor, "第一次催办")
    page = client_for(staff).get(reverse("inbox")).content.decode()
    assert "第一次催办" in page and 'data-unread="1"' in page
    other = client_for(other_staff).get(reverse("inbox")).content.decode()
    assert "第一次催办" not in other and "data-unread" not in other


def test_marking_one_read_with_htmx_updates_the_item_and_announces_it(supervisor, staff, measure):
    measure.remind(supervisor)
    notice = staff.notifications.get()
    response = client_for(staff).post(reverse("inbox_read", args=[notice.pk]), **HTMX)
    assert response.status_code == 200
    assert "noticesChanged" in response["HX-Trigger"]
    assert "已读" in response.content.decode()
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert staff.notifications.unread().count() == 0


def test_nobody_can_mark_someone_elses_notice(supervisor, staff, other_staff, measure):
    measure.remind(supervisor)
    notice = staff.notifications.get()
    response = client_for(other_staff).post(reverse("inbox_read", args=[notice.pk]))
    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_mark_all_read_without_javascript_redirects(supervisor, staff, measure, care_measure):
    measure.remind(supervisor)
    measure.remind(supervisor)
    response = client_for(staff).post(reverse("inbox_read_all"))
    assert response.status_code == 302
    assert staff.notifications.unread().count() == 0
    assert staff.notifications.count() == 2


def test_inbox_actions_are_post_only(staff):
    assert client_for(staff).get(reverse("inbox_read_all")).status_code == 405
    assert client_for(staff).get(reverse("inbox_read", args=[1])).status_code == 405


def test_the_badge_fragment_counts_unread(supervisor, staff, measure):
    client = client_for(staff)
    badge = client.get(reverse("inbox"), HTTP_HX_TARGET="inbox-badge", **HTMX)
    assert badge.content.decode().startswith('<a id="inbox-badge"')
    assert "data-unread" not in badge.content.decode()
    measure.remind(supervisor)
    badge = client.get(reverse("inbox"), HTTP_HX_TARGET="inbox-badge", **HTMX).content.decode()
    assert 'data-unread="1"' in badge and "<html" not in badge


def test_every_page_shows_the_badge(supervisor, staff, measure):
    measure.remind(supervisor)
    page = client_for(staff).get(reverse("measure_list")).content.decode()
    assert 'id="inbox-badge"' in page and 'data-unread="1"' in page


def test_the_inbox_costs_the_same_queries_for_few_and_many_notices(supervisor, staff, measure):
    client = client_for(staff)
    client.get(reverse("inbox"))

    measure.remind(supervisor)
    few = count_queries(client, reverse("inbox"))
    Notification.objects.bulk_create(
        Notification(user=staff, kind=Kind.REMINDED, measure=measure, text=f"催办{i}")
        for i in range(300)
    )
    assert count_queries(client, reverse("inbox")) == few


# /my/: the worklist ---------------------------------------------------------------------


@pytest.fixture
def worklist(document, units, staff, supervisor):
    aid = units["aid"]
    m = {
        "later": make_measure(
            document, 10, "以后", unit=aid, owner=staff, deadline=date(2027, 6, 1)
        ),
        "soon": make_measure(document, 11, "临期", unit=aid, owner=staff, deadline=TODAY),
        "overdue": make_measure(
            document, 12, "逾期", unit=aid, owner=staff, deadline=date(2026, 11, 1)
        ),
        "reminded": make_measure(
            document, 13, "被催办", unit=aid, owner=staff, deadline=date(2027, 6, 2)
        ),
        "owed": make_measure(
            document,
            14,
            "应报送",
            unit=aid,
            owner=staff,
            deadline=date(2027, 6, 3),
            report_cadence=Measure.Cadence.MONTHLY,
            report_day=10,
            assigned_at=timezone.make_aware(datetime(2026, 8, 14, 9)),
            status=Measure.Status.IN_PROGRESS,
        ),
        "done": make_measure(document, 15, "办结", unit=aid, owner=staff, status="done"),
    }
    m["reminded"].remind(supervisor, "抓紧")
    return m


def test_my_worklist_puts_reminders_first_then_overdue_reports_and_due_soon(
    staff, worklist, freeze_today
):
    response = client_for(staff).get(reverse("my_measures"))
    order = [m.title for m in response.context["measures"]]
    assert order == ["被催办", "逾期", "应报送", "临期", "以后", "办结"]
    page = response.content.decode()
    assert "催办</span>" in page and "未按时报送</span>" in page
    assert "2026-12-10" in page  # the next monthly report date
    assert page.count("填报进展</a>") == 5


def test_an_overdue_measure_waiting_for_sign_off_is_not_the_owners_to_do(
    staff, worklist, freeze_today
):
    worklist["overdue"].request_closure(staff, "已完成")
    measures = client_for(staff).get(reverse("my_measures")).context["measures"]
    waiting = next(m for m in measures if m.title == "逾期")
    assert waiting.bucket == 5 and not waiting.missing
    assert [m.title for m in measures][-2:] == ["逾期", "办结"]


def test_a_progress_report_clears_the_reminder_mark(staff, worklist, freeze_today):
    worklist["reminded"].report_progress(staff, progress="已推进")
    order = [m.title for m in client_for(staff).get(reverse("my_measures")).context["measures"]]
    assert order[0] == "逾期"


def test_a_returned_closure_comes_first_until_reported_on(
    staff, supervisor, worklist, freeze_today
):
    later = worklist["later"]
    later.request_closure(staff, "已完成")
    later.closure_requests.get().decide(supervisor, approve=False, comment="材料不全")
    measures = client_for(staff).get(reverse("my_measures")).context["measures"]
    # Both need the owner first; the earlier deadline leads.
    assert [m.title for m in measures[:2]] == ["以后", "被催办"]
    assert measures[0].returned and not measures[1].returned


def test_my_worklist_queries_stay_flat(staff, document, units, freeze_today):
    client = client_for(staff)
    client.get(reverse("my_measures"))

    def grow(n):
        made = grow_ledger(
            document,
            units,
            staff,
            n,
            lambda i: {"report_cadence": "weekly", "report_day": 5} if i % 2 else {},
        )
        ProgressUpdate.objects.bulk_create(
            ProgressUpdate(measure=m, author=staff, progress="进展") for m in made[::3]
        )

    grow(20)
    small = count_queries(client, reverse("my_measures"))
    grow(2000)
    assert count_queries(client, reverse("my_measures")) == small


def test_the_daily_run_notifies_owed_reports_once_until_read(
    supervisor, staff, document, units, mailoutbox
):
    from tracker import reminders

    owed = make_measure(
        document,
        30,
        "月报事项",
        unit=units["aid"],
        owner=staff,
        status=Measure.Status.IN_PROGRESS,
        report_cadence=Measure.Cadence.MONTHLY,
        report_day=10,
        assigned_at=timezone.make_aware(datetime(2026, 8, 1, 9)),
    )
    result = reminders.send_daily(TODAY)
    (notice,) = staff.notifications.filter(measure=owed)
    assert notice.kind == Kind.REPORT_MISSING and "2026-11-10" in notice.text
    assert supervisor.notifications.get().kind == Kind.REPORT_MISSING
    assert result.notices == 2
    # The run's day is TODAY: date the notices in it.
    Notification.objects.update(created_at=timezone.make_aware(datetime(2026, 11, 22, 8)))
    # Without an e-mail address the inbox still gets it; runs add nothing while it is unread…
    assert reminders.send_daily(TODAY).notices == 0
    assert reminders.send_daily(TODAY + timedelta(days=1)).notices == 0
    # …nor a second run the same day after it was read…
    Notification.objects.mark_read()
    assert reminders.send_daily(TODAY).notices == 0
    # …but the next day's run reminds again.
    assert reminders.send_daily(TODAY + timedelta(days=1)).notices == 2
