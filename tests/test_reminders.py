"""催办 mails, the daily digest and summary, and the `send_reminders` command."""

import smtplib
from datetime import date, datetime, time, timedelta
from io import StringIO
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from tracker import lights, reminders
from tracker.models import (
    Change,
    ClosureRequest,
    DigestLog,
    Measure,
    MeasureQuerySet,
    ProgressUpdate,
    Reminder,
    RequestQuerySet,
)
from tracker.templatetags.ledger import due_class

from .conftest import TODAY, make_measure

pytestmark = pytest.mark.django_db

SITE = "https://duban.example.gov.cn"
HX = {"HTTP_HX_REQUEST": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
positions = count(100)


@pytest.fixture(autouse=True)
def mail_settings(settings):
    settings.SITE_URL = SITE + "/"  # a trailing slash must not double up in links
    settings.DUE_SOON_DAYS = 7


@pytest.fixture
def addresses(supervisor, staff, other_staff):
    for user in (supervisor, staff, other_staff):
        user.email = f"{user.username}@mca.example.gov.cn"
        user.save()


def day(offset):
    return TODAY + timedelta(days=offset)


def at(when):
    """Noon in Beijing on a day: the moment a report was filed or a measure assigned."""
    return datetime.combine(when, time(12), tzinfo=SHANGHAI)


def owned_by(user, document, title, **fields):
    return make_measure(document, next(positions), title, owner=user, unit=user.unit, **fields)


def link(measure):
    return f"{SITE}/measures/{measure.pk}/"


def titles(items):
    return [item.measure.title for item in items]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run `work()` and then what it left for the commit, as when the transaction ends."""

    def run(work, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            outcome = work(*args, **kwargs)
        return outcome

    return run


@pytest.fixture
def daily(committed):
    """send_daily as the command runs it: each recipient's log committed, then the mail."""
    return lambda today=TODAY, **options: committed(reminders.send_daily, today, **options)


@pytest.fixture
def manual(committed):
    """send_manual after the reminders are committed; the mails go out on commit."""
    return lambda rows: committed(reminders.send_manual, rows, today=TODAY)


def refuse_mail(patch):
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("connection lost")

    patch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)


def mails_sent_inside_a_transaction(monkeypatch):
    """Record, for every mail sent, whether a transaction was open at that moment."""
    from django.core.mail.backends.locmem import EmailBackend

    seen = []
    real = EmailBackend.send_messages

    def send_messages(self, messages):
        seen.append(transaction.get_connection().in_atomic_block)
        return real(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_messages)
    return seen


# Manual 催办 ------------------------------------------------------------------------------


def test_manual_reminder_mails_the_owner_what_why_and_where(
    mailoutbox, addresses, measure, supervisor, staff, manual
):
    reminder = measure.remind(supervisor, "请于本周内报送整改情况")

    manual([reminder])

    [mail] = mailoutbox
    assert mail.to == [staff.email]
    assert mail.subject == "【催办】健全低保动态管理机制"
    assert "督查员Ducha" in mail.body
    assert "完成时限：2026-10-31（已逾期 22 天）" in mail.body
    assert "附言：请于本周内报送整改情况" in mail.body
    assert f"查看：{link(measure)}" in mail.body
    reminder.refresh_from_db()
    assert reminder.emailed and reminder.kind == Reminder.Kind.MANUAL


def test_unit_reminder_sends_one_mail_per_owner_listing_their_measures(
    mailoutbox, addresses, document, measure, care_measure, supervisor, staff, other_staff, manual
):
    second = owned_by(staff, document, "规范临时救助审批流程", deadline=day(-1))
    rows = [m.remind(supervisor, "逾期事项集中催办") for m in (measure, second, care_measure)]

    manual(rows)

    assert len(mailoutbox) == 2

    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    staff_mail = by_recipient[staff.email]
    assert staff_mail.subject == "【催办】健全低保动态管理机制等2项督办事项"
    assert "以下2项督办事项" in staff_mail.body
    assert link(measure) in staff_mail.body and link(second) in staff_mail.body
    assert link(care_measure) not in staff_mail.body
    assert staff_mail.body.count("逾期事项集中催办") == 1  # the shared note is said once
    assert "完成时限：未设定" in by_recipient[other_staff.email].body
    assert all(row.emailed for row in rows)


def test_owner_without_an_address_keeps_the_reminder_unmailed(
    mailoutbox, measure, supervisor, manual
):
    reminder = measure.remind(supervisor)

    manual([reminder])

    assert mailoutbox == []
    reminder.refresh_from_db()
    assert not reminder.emailed


def test_a_reminder_is_mailed_once_even_if_sent_again(
    mailoutbox, addresses, measure, supervisor, manual
):
    reminder = measure.remind(supervisor)
    manual([reminder])

    manual([reminder])
    assert len(mailoutbox) == 1


def test_a_refused_mail_leaves_the_reminder_unmailed(
    monkeypatch, addresses, measure, supervisor, manual
):
    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    reminder = measure.remind(supervisor)

    manual([reminder])
    reminder.refresh_from_db()
    assert not reminder.emailed


def test_a_manual_reminder_is_mailed_only_once_its_transaction_commits(
    mailoutbox, addresses, measure, supervisor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reminder = measure.remind(supervisor, "请于本周内报送")
        assert reminders.send_manual([reminder], today=TODAY) is None  # not yet known
        assert mailoutbox == []
        reminder.refresh_from_db()
        assert not reminder.emailed

    assert len(callbacks) == 1
    assert [mail.to for mail in mailoutbox] == [["zhangmin@mca.example.gov.cn"]]
    reminder.refresh_from_db()
    assert reminder.emailed


def test_a_rolled_back_manual_reminder_is_never_mailed(
    mailoutbox, addresses, measure, supervisor, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        reminders.send_manual([measure.remind(supervisor)], today=TODAY)
        raise RuntimeError("the page failed after the 催办 was written")

    assert mailoutbox == [] and not Reminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_manual_mail_goes_at_once_and_is_counted(
    monkeypatch, mailoutbox, addresses, measure, supervisor
):
    inside = mails_sent_inside_a_transaction(monkeypatch)
    reminder = measure.remind(supervisor)

    assert reminders.send_manual([reminder], today=TODAY) == 1

    assert inside == [False] and len(mailoutbox) == 1


def test_the_remind_page_mails_after_its_transaction_commits(
    client, mailoutbox, addresses, measure, supervisor, django_capture_on_commit_callbacks
):
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("measure_remind", args=[measure.pk]), {"note": "请本周内报送"}, **HX
        )
        assert mailoutbox == []

    assert response.status_code == 200
    assert [mail.to for mail in mailoutbox] == [["zhangmin@mca.example.gov.cn"]]
    assert Reminder.objects.get().emailed


@pytest.mark.django_db(transaction=True)
def test_a_units_reminders_are_mailed_after_commit_and_counted(
    client, monkeypatch, mailoutbox, addresses, document, units, staff, supervisor, freeze_today
):
    inside = mails_sent_inside_a_transaction(monkeypatch)
    for n in (1, 2):
        owned_by(staff, document, f"逾期{n}", deadline=day(-n))
    client.force_login(supervisor)

    response = client.post(reverse("unit_remind", args=[units["aid"].pk]), {"confirm": "1"}, **HX)

    assert "逾期事项 2 项，发出提醒邮件 1 封" in response.content.decode()
    assert inside == [False] and len(mailoutbox) == 1
    assert all(Reminder.objects.values_list("emailed", flat=True))


# Owner digest -----------------------------------------------------------------------------


def test_deadlines_are_grouped_at_the_boundaries(document, staff):
    yesterday = owned_by(staff, document, "昨天到期", deadline=day(-1))
    today = owned_by(staff, document, "今天到期", deadline=day(0))
    last_soon = owned_by(staff, document, "七天后到期", deadline=day(7))
    owned_by(staff, document, "八天后到期", deadline=day(8))
    owned_by(staff, document, "未定时限")

    digest = reminders.owner_digest(staff, TODAY)

    assert titles(digest.overdue) == [yesterday.title]
    assert digest.overdue[0].days == 1
    assert titles(digest.due_soon) == [today.title, last_soon.title]
    assert [item.days for item in digest.due_soon] == [0, 7]
    assert digest.reports == () and digest.returned == ()


def test_closed_pending_archived_and_others_measures_are_left_out(
    document, staff, other_staff, care_measure
):
    for status in ("done", "suspended", "pending_review"):
        owned_by(staff, document, f"{status}事项", status=status, deadline=day(-3))
    owned_by(staff, document, "已归档", deadline=day(-3), archived_at=at(day(-1)))
    care_measure.deadline = day(-3)
    care_measure.save()

    assert not reminders.owner_digest(staff, TODAY)
    assert titles(reminders.owner_digest(other_staff, TODAY).overdue) == [care_measure.title]


def monthly(staff, document, title, report_day, last_report=None):
    """Reports due on `report_day` of each month, assigned long ago."""
    measure = owned_by(
        staff,
        document,
        title,
        report_cadence="monthly",
        report_day=report_day,
        assigned_at=at(date(2026, 1, 5)),
    )
    if last_report:
        ProgressUpdate.objects.create(
            measure=measure, author=staff, progress="按月报送", created_at=at(last_report)
        )
    return measure


def test_a_missed_report_is_listed_as_late(document, staff):
    # Reports due on the 21st: the one due 2026-11-21 covers 10-22 … 11-21.
    missed = monthly(staff, document, "十月底报送过", 21, last_report=date(2026, 10, 21))
    monthly(staff, document, "十月二十二日报送过", 21, last_report=date(2026, 10, 22))

    [item] = reminders.owner_digest(staff, TODAY).reports

    assert (item.measure, item.due, item.late) == (missed, date(2026, 11, 21), True)


def test_a_report_due_within_three_days_is_listed_before_it_is_late(document, staff):
    # Filed for the period due in October; a report filed after October's due date would
    # already count for November's.
    filed = date(2026, 10, 10)
    due_today = monthly(staff, document, "今天应报", 22, last_report=filed)
    due_in_three = monthly(staff, document, "三天后应报", 25, last_report=filed)
    monthly(staff, document, "四天后应报", 26, last_report=filed)
    monthly(staff, document, "本期已报", 24, last_report=date(2026, 10, 25))

    digest = reminders.owner_digest(staff, TODAY)

    assert [(i.measure, i.due, i.late) for i in digest.reports] == [
        (due_today, date(2026, 11, 22), False),
        (due_in_three, date(2026, 11, 25), False),
    ]


def test_a_returned_closure_is_listed_until_it_is_asked_again(document, supervisor, staff):
    measure = owned_by(staff, document, "退回事项", status="in_progress", deadline=day(30))
    request = measure.request_closure(staff, "已完成")
    request.decide(supervisor, approve=False, comment="佐证材料不全")

    [item] = reminders.owner_digest(staff, TODAY).returned
    assert (item.measure, item.comment) == (measure, "佐证材料不全")

    measure.request_closure(staff, "已补充佐证材料")  # 待审核 now: the supervisor's turn
    assert not reminders.owner_digest(staff, TODAY)


def test_closure_outcome_is_the_latest_request(document, supervisor, staff):
    # An old return followed by an approval and a reopening is not 退回重办 any more.
    measure = owned_by(staff, document, "重新打开", status="in_progress")
    measure.request_closure(staff, "初次").decide(supervisor, approve=False, comment="不全")
    measure.request_closure(staff, "补充").decide(supervisor, approve=True)
    measure.reopen(supervisor, "回头看发现问题反弹")

    assert ClosureRequest.objects.filter(measure=measure).count() == 2
    assert Measure.objects.get(pk=measure.pk).status == "in_progress"
    assert not reminders.owner_digest(staff, TODAY)


def test_a_measure_under_several_headings_is_one_item(document, staff):
    measure = monthly(staff, document, "逾期且未报送", 21)
    measure.deadline = day(-2)
    measure.save()

    digest = reminders.owner_digest(staff, TODAY)

    assert titles(digest.overdue) == titles(digest.reports) == [measure.title]
    assert digest.headings() == [(measure, ["已逾期", "待报送进展"])]


def test_a_late_report_is_what_report_missing_says(monkeypatch, document, staff):
    # One definition of 未按时报送: the digest lists what the queryset finds, nothing else.
    listed = monthly(staff, document, "按规则漏报", 21, last_report=date(2026, 9, 1))
    chosen = owned_by(staff, document, "规则选中", deadline=day(30))
    assert [i.measure for i in reminders.owner_digest(staff, TODAY).reports] == [listed]

    monkeypatch.setattr(
        MeasureQuerySet, "report_missing", lambda self, today: self.filter(pk=chosen.pk)
    )
    chosen.report_cadence, chosen.report_day = "monthly", 21
    chosen.save()

    [item] = reminders.owner_digest(staff, TODAY).reports
    assert (item.measure, item.due, item.late) == (chosen, date(2026, 11, 21), True)


def test_a_suspended_measure_with_a_cycle_owes_no_report(document, staff):
    measure = monthly(staff, document, "暂缓月报", 10)
    Measure.objects.filter(pk=measure.pk).update(status=Measure.Status.SUSPENDED)

    assert reminders.supervisor_summary(TODAY).reports_missing == 0
    assert not reminders.owner_digest(staff, TODAY)
    assert not Measure.objects.report_missing(TODAY).exists()


def test_due_soon_is_lights_is_due_soon_everywhere(monkeypatch, document, staff):
    # One definition for one measure: the digest and the ledger's deadline class ask
    # lights.is_due_soon, as the 蓝灯 does.
    far = owned_by(staff, document, "三十天后到期", deadline=day(30))
    assert reminders.owner_digest(staff, TODAY).due_soon == ()
    assert due_class(far, TODAY) == ""

    monkeypatch.setattr(lights, "is_due_soon", lambda deadline, today, days: True)

    assert titles(reminders.owner_digest(staff, TODAY).due_soon) == [far.title]
    assert due_class(far, TODAY) == "soon"
    assert lights.light(status="in_progress", deadline=far.deadline, today=TODAY) == "blue"


@pytest.mark.parametrize("offset", [-1, 0, 1, 7, 8])
def test_due_soon_agrees_per_object_and_in_sql(document, staff, offset):
    measure = owned_by(staff, document, "边界", deadline=day(offset))
    in_sql = Measure.objects.due_soon(TODAY).filter(pk=measure.pk).exists()
    in_digest = bool(reminders.owner_digest(staff, TODAY).due_soon)
    assert in_sql == in_digest == (due_class(measure, TODAY) == "soon") == (0 <= offset <= 7)


# Supervisor summary -----------------------------------------------------------------------


def test_supervisor_summary_counts_the_ledger(document, units, supervisor, staff, other_staff):
    owned_by(staff, document, "救助逾期一", deadline=day(-1))
    owned_by(staff, document, "救助逾期二", deadline=day(-30))
    owned_by(other_staff, document, "养老逾期", deadline=day(-5))
    make_measure(document, next(positions), "无单位逾期", deadline=day(-5))
    owned_by(staff, document, "七天后到期", deadline=day(7))
    owned_by(staff, document, "八天后到期", deadline=day(8))
    monthly(staff, document, "未按时报送", 21)
    owned_by(staff, document, "申请延期", deadline=day(3)).request_extension(
        staff, day(40), "需协调财政资金", TODAY
    )
    owned_by(staff, document, "申请办结", deadline=day(20)).request_closure(staff, "已完成")
    owned_by(staff, document, "今日回头看", status="done", recheck_on=day(0))
    owned_by(staff, document, "明日回头看", status="done", recheck_on=day(1))

    summary = reminders.supervisor_summary(TODAY)

    assert (summary.overdue, summary.due_soon, summary.reports_missing) == (4, 2, 1)
    assert (summary.pending_extensions, summary.pending_closures, summary.rechecks_due) == (1, 1, 1)
    assert summary.overdue_by_unit == (("社会救助司", 2), ("养老服务司", 1), ("未指定牵头单位", 1))


def test_supervisor_summary_counts_through_the_queryset_methods(
    monkeypatch, document, supervisor, staff
):
    # One definition each: change a rule on the QuerySet and the summary follows.
    owned_by(staff, document, "申请延期", deadline=day(3)).request_extension(
        staff, day(40), "需协调财政资金", TODAY
    )
    owned_by(staff, document, "申请办结", deadline=day(20)).request_closure(staff, "已完成")
    owned_by(staff, document, "明日回头看", status="done", recheck_on=day(1))
    owned_by(staff, document, "暂缓", status="suspended")
    before = reminders.supervisor_summary(TODAY)
    assert (before.reports_missing, before.rechecks_due) == (0, 0)
    assert (before.pending_extensions, before.pending_closures) == (1, 1)

    monkeypatch.setattr(MeasureQuerySet, "report_missing", lambda self, today: self.all())
    monkeypatch.setattr(MeasureQuerySet, "rechecks_due", lambda self, today: self.done())
    monkeypatch.setattr(RequestQuerySet, "pending", lambda self: self.none())
    after = reminders.supervisor_summary(TODAY)
    assert (after.reports_missing, after.rechecks_due) == (4, 1)
    assert (after.pending_extensions, after.pending_closures) == (0, 0)


# The daily run ----------------------------------------------------------------------------


@pytest.fixture
def ledger(document, addresses, supervisor, staff, other_staff, measure):
    """staff: one overdue (measure) and one due soon; other_staff: nothing to do."""
    soon = owned_by(staff, document, "完善救助信息平台", deadline=day(2))
    owned_by(other_staff, document, "远期事项", deadline=day(60))
    return measure, soon


def test_daily_run_mails_owners_and_supervisors_and_logs_each_measure(
    mailoutbox, ledger, supervisor, staff, daily
):
    overdue, soon = ledger

    result = daily()

    assert (result.owner_mails, result.supervisor_mails, result.items) == (1, 1, 2)
    owner_mail, summary_mail = mailoutbox
    assert owner_mail.to == [staff.email]
    assert owner_mail.subject == "【督办提醒】2026-11-22 您有2项督办事项需要办理（其中逾期1项）"
    assert "【已逾期】1项" in owner_mail.body and "已逾期 22 天" in owner_mail.body
    assert "【即将到期】1项" in owner_mail.body and "还剩 2 天" in owner_mail.body
    assert link(overdue) in owner_mail.body and link(soon) in owner_mail.body
    assert f"{SITE}/my/" in owner_mail.body
    assert summary_mail.to == [supervisor.email]
    assert "已逾期：1项" in summary_mail.body and f"{SITE}/overdue/" in summary_mail.body
    assert f"{SITE}/measures/?due=soon" in summary_mail.body

    logged = Reminder.objects.filter(kind=Reminder.Kind.DIGEST)
    assert {(r.measure_id, r.recipient_id, r.sent_by_id, r.emailed) for r in logged} == {
        (overdue.pk, staff.pk, None, True),
        (soon.pk, staff.pk, None, True),
    }
    assert set(DigestLog.objects.values_list("recipient_id", "day", "kind", "items")) == {
        (staff.pk, TODAY, "owner", 2),
        (supervisor.pk, TODAY, "supervisor", 2),
    }


def test_second_run_the_same_day_sends_and_writes_nothing(mailoutbox, ledger, daily):
    daily()
    rows = (Reminder.objects.count(), DigestLog.objects.count())

    again = daily()

    assert (again.owner_mails, again.supervisor_mails, again.already_sent) == (0, 0, 2)
    assert len(mailoutbox) == 2
    assert (Reminder.objects.count(), DigestLog.objects.count()) == rows


def test_next_day_sends_again(mailoutbox, ledger, daily):
    daily()

    tomorrow = daily(day(1))

    assert (tomorrow.owner_mails, tomorrow.supervisor_mails) == (1, 1)
    assert len(mailoutbox) == 4
    assert DigestLog.objects.filter(day=day(1)).count() == 2


def test_dry_run_sends_and_writes_nothing_but_counts(mailoutbox, ledger, staff, supervisor, daily):
    result = daily(dry_run=True)

    assert (result.owner_mails, result.supervisor_mails, result.items) == (1, 1, 2)
    assert result.recipients == [staff.email, supervisor.email]
    assert mailoutbox == []
    assert not Reminder.objects.exists() and not DigestLog.objects.exists()


def test_nobody_is_mailed_when_there_is_nothing_to_do(mailoutbox, addresses, care_measure, daily):
    result = daily()

    assert (result.owner_mails, result.supervisor_mails) == (0, 0)
    assert mailoutbox == [] and not DigestLog.objects.exists()


def test_owners_without_an_address_or_no_longer_active_are_not_mailed(
    mailoutbox, document, supervisor, staff, other_staff, measure, daily
):
    other_staff.email, other_staff.is_active = "liuyang@mca.example.gov.cn", False
    other_staff.save()
    owned_by(other_staff, document, "离职人员事项", deadline=day(-1))

    result = daily()

    assert (result.owner_mails, result.without_email) == (0, 2)  # staff and the supervisor
    assert mailoutbox == [] and not Reminder.objects.exists()


def test_a_refused_mail_is_not_logged_so_the_next_run_retries(
    monkeypatch, mailoutbox, ledger, daily
):
    with monkeypatch.context() as patch:
        refuse_mail(patch)
        failed = daily()
    assert (failed.failed, failed.owner_mails, failed.supervisor_mails) == (2, 0, 0)
    assert not Reminder.objects.exists() and not DigestLog.objects.exists()
    assert not Change.objects.filter(field="reminder").exists()

    retried = daily()
    assert (retried.owner_mails, retried.supervisor_mails) == (1, 1)
    assert len(mailoutbox) == 2


def test_no_mail_leaves_while_the_log_is_uncommitted(
    mailoutbox, ledger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = reminders.send_daily(TODAY)
        # Logged, and the mails wait for the commit.
        assert DigestLog.objects.count() == 2
        assert mailoutbox == [] and result.owner_mails == result.supervisor_mails == 0

    assert len(callbacks) == 2 and len(mailoutbox) == 2
    assert (result.owner_mails, result.supervisor_mails, result.items) == (1, 1, 2)


def test_a_run_that_rolls_back_sends_nothing(
    mailoutbox, ledger, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        reminders.send_daily(TODAY)
        raise RuntimeError("the run failed before its logs were committed")

    assert mailoutbox == [] and not DigestLog.objects.exists()


def test_an_unexpected_send_error_is_raised_and_takes_its_log_back(
    monkeypatch, ledger, staff, django_capture_on_commit_callbacks
):
    def broken(self, messages):
        raise ValueError("bad header")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", broken)
    with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
        reminders.send_daily(TODAY)

    # The owner's digest, the first to go, is not on record as sent.
    assert not DigestLog.objects.filter(recipient=staff).exists()
    assert not Reminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_daily_mail_is_sent_after_commit_not_inside_a_transaction(
    monkeypatch, mailoutbox, ledger, supervisor, staff
):
    # Real commits here: on SQLite (IMMEDIATE) an open transaction holds the write lock, and
    # every other writer would wait on the mail server.
    inside = mails_sent_inside_a_transaction(monkeypatch)

    result = reminders.send_daily(TODAY)

    assert inside == [False, False]
    assert (result.owner_mails, result.supervisor_mails) == (1, 1)
    assert DigestLog.objects.count() == 2 and Reminder.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_refused_mail_after_commit_takes_its_log_back(monkeypatch, mailoutbox, ledger, staff):
    with monkeypatch.context() as patch:
        refuse_mail(patch)
        failed = reminders.send_daily(TODAY)
    assert failed.failed == 2
    assert not DigestLog.objects.exists() and not Reminder.objects.exists()
    assert not Change.objects.filter(field="reminder").exists()

    retried = reminders.send_daily(TODAY)
    assert (retried.owner_mails, retried.supervisor_mails, retried.failed) == (1, 1, 0)
    assert DigestLog.objects.count() == 2


@pytest.mark.parametrize("per_owner", [1, 25])
def test_daily_run_queries_do_not_grow_with_measures_per_owner(
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
    document,
    addresses,
    supervisor,
    staff,
    other_staff,
    per_owner,
):
    for owner in (staff, other_staff):
        for n in range(per_owner):
            # Late with its report as well as overdue or due soon: under two headings each.
            measure = monthly(owner, document, f"{owner.username}事项{n}", 21, date(2026, 9, 1))
            measure.deadline = day(n % 10 - 2)
            measure.save()

    # 12 to read (logs, measures, 2 for the reports owed, 7 for the summary, supervisors),
    # then per recipient a savepoint, the log, the reminders and their history lines in one
    # insert each, the release: 5 + 5 + 3; the inbox notices: the unread ones, the
    # supervisors, one insert; each of the three 未按时报送 reads first reads the report
    # cycles in use. Sending after commit reads nothing more.
    with django_assert_max_num_queries(31), django_capture_on_commit_callbacks(execute=True):
        result = reminders.send_daily(TODAY)

    assert (result.owner_mails, result.supervisor_mails) == (2, 1)
    assert result.items == 2 * per_owner


# The command ------------------------------------------------------------------------------


def run_command(*args):
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)  # the command runs in autocommit: mails go at commit
def test_command_prints_what_it_sent(mailoutbox, ledger):
    output = run_command("--date", "2026-11-22")

    assert "2026-11-22 每日提醒：责任人提醒 1 封（列明事项 2 项），督查员汇总 1 封" in output
    assert "今日已发过跳过 0 人" in output
    assert len(mailoutbox) == 2
    assert "今日已发过跳过 2 人" in run_command("--date", "2026-11-22")


def test_command_dry_run_lists_recipients_and_sends_nothing(mailoutbox, ledger, staff):
    output = run_command("--date", "2026-11-22", "--dry-run")

    assert output.startswith(f"  {staff.email}\n")
    assert "【试运行，未发送、未记录】" in output
    assert mailoutbox == [] and not DigestLog.objects.exists()


def test_command_defaults_to_today_in_beijing(mailoutbox, ledger, freeze_today):
    run_command()

    assert set(DigestLog.objects.values_list("day", flat=True)) == {TODAY}


@pytest.mark.parametrize("value", ["2026-13-01", "20261122", "2026-11-22T08:00", "明天"])
def test_command_rejects_a_bad_date_in_both_languages(mailoutbox, value):
    with pytest.raises(CommandError, match=r"日期格式应为 YYYY-MM-DD / --date must be"):
        run_command("--date", value)
    assert mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_command_fails_when_a_mail_failed(monkeypatch, ledger):
    refuse_mail(monkeypatch)
    with pytest.raises(CommandError, match="2 封邮件发送失败"):
        run_command("--date", "2026-11-22")
    assert not DigestLog.objects.exists()
