"""催办 and the daily reminders: who is told what, by mail, and the record that they were told.

Two ways a reminder goes out:

- `send_manual`: a supervisor's 催办 (`Measure.remind` writes the Reminder rows; this mails them).
- `send_daily` (the `send_reminders` command, run by cron once a day): a digest for every owner
  with something to do, and a summary for every supervisor.

What an owner's digest lists (a measure may be listed under more than one heading, because each
heading asks for a different action; it is still one measure and one Reminder row):

- 已逾期: open and the deadline is before today.
- 即将到期: open and the deadline is today or within settings.DUE_SOON_DAYS (the 蓝灯 window).
- 待报送进展: has a reporting cycle and either the report for the last finished period is missing
  (`Measure.objects.report_missing(today)`, i.e. 未按时报送, as the dashboard counts it) or the
  next report is due within REPORT_AHEAD_DAYS days (today included) and has not been filed yet
  (the same queryset asked about a day a few days ahead).
- 退回重办: the latest 办结 request was returned and the measure is still 推进中.

Measures 待审核 are left out of owner digests: the owner has asked to close them and the next
step is the supervisor's; they are counted in the supervisor summary instead.

Mail goes out only after the transaction that records it has committed
(`transaction.on_commit`): no database lock is held while the mail server is talked to.
"""

import logging
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import lights
from .lights import due_dates_before
from .models import (
    Change,
    ClosureRequest,
    DigestLog,
    ExtensionRequest,
    Measure,
    Notification,
    Reminder,
    User,
)

logger = logging.getLogger(__name__)

# A report due this many days ahead (or today) is listed under 待报送进展 before it is late.
REPORT_AHEAD_DAYS = 3

NO_UNIT = "未指定牵头单位"


def absolute_url(name, *args, query=""):
    """Links in mails are opened outside the site, so they carry settings.SITE_URL."""
    url = settings.SITE_URL.rstrip("/") + reverse(name, args=args)
    return f"{url}?{query}" if query else url


def one_line(text):
    # A mail subject must not contain a line break (Django refuses to send it).
    return " ".join(str(text).split())


# Manual 催办 ------------------------------------------------------------------------------


def send_manual(reminders, today=None):
    """Mail the owners about Reminder rows written by `Measure.remind`, once they are committed.

    The mails go out when the current transaction commits (at once outside one), so no lock is
    held while the mail server answers. Returns the mails sent, or None when the caller's
    transaction is still open and they are yet to go.

    One mail per recipient, listing all of their measures (a unit's 集中催办 becomes one mail per
    owner). Rows already mailed are skipped, so calling this twice does not mail twice. A
    recipient without an address, or a mail the server refuses, leaves `emailed` False: the
    reminder stays on record and the page can show it was not mailed.
    """
    today = today or timezone.localdate()
    outcome = []
    transaction.on_commit(lambda: outcome.append(mail_reminders(reminders, today)))
    return outcome[0] if outcome else None


def mail_reminders(reminders, today):
    """send_manual's mailing, after commit; returns the mails sent."""
    by_pk = {reminder.pk: reminder for reminder in reminders}
    rows = (
        Reminder.objects.filter(pk__in=by_pk, kind=Reminder.Kind.MANUAL, emailed=False)
        .select_related("measure", "recipient", "sent_by")
        .order_by("recipient_id", F("measure__deadline").asc(nulls_last=True), "measure__position")
    )
    groups = [list(group) for _, group in groupby(rows, key=lambda row: row.recipient_id)]
    mailable = [group for group in groups if group[0].recipient.email]
    sent = 0
    if not mailable:
        return sent
    try:
        with mail.get_connection() as connection:
            for group in mailable:
                if deliver(manual_message(group, today, connection)):
                    mark_emailed(group, by_pk)
                    sent += 1
    except OSError:  # the server could not be reached at all; the reminders stay unmailed
        logger.exception("无法连接邮件服务器，催办邮件未发送")
    return sent


def mark_emailed(rows, passed):
    pks = [row.pk for row in rows]
    Reminder.objects.filter(pk__in=pks).update(emailed=True)
    for pk in pks:  # the caller's objects too, so a page rendered next shows it
        passed[pk].emailed = True


def manual_message(rows, today, connection):
    recipient = rows[0].recipient
    notes = {row.note for row in rows}
    # 集中催办 repeats one note on every row: say it once, above the list.
    common_note = notes.pop() if len(notes) == 1 else ""
    items = [
        {
            "measure": row.measure,
            "days_overdue": row.measure.days_overdue(today),
            "note": "" if common_note else row.note,
            "url": absolute_url("measure_detail", row.measure_id),
        }
        for row in rows
    ]
    senders = sorted({str(row.sent_by) for row in rows if row.sent_by})
    body = render_to_string(
        "tracker/email/reminder.txt",
        {
            "recipient": recipient,
            "senders": "、".join(senders),
            "common_note": common_note,
            "items": items,
            "today": today,
        },
    )
    first = rows[0].measure.title
    subject = f"【催办】{first}" if len(rows) == 1 else f"【催办】{first}等{len(rows)}项督办事项"
    return mail.EmailMessage(one_line(subject), body, to=[recipient.email], connection=connection)


def deliver(message):
    """Send one mail; a refused or unreachable mail server is logged, not raised."""
    try:
        message.send()
    except OSError:  # smtplib.SMTPException and socket errors
        logger.exception("催办邮件发送失败：%s", message.to)
        return False
    return True


# Owner digest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    measure: Measure
    url: str
    days: int | None = None  # 即将到期: days left (0 = today); 已逾期: days overdue
    due: date | None = None  # 待报送进展: the report's due date
    late: bool = False  # 待报送进展: the due date has passed (未按时报送)
    comment: str = ""  # 退回重办: the supervisor's reason


@dataclass(frozen=True)
class Digest:
    user: User
    today: date
    overdue: tuple[DigestItem, ...] = ()
    due_soon: tuple[DigestItem, ...] = ()
    reports: tuple[DigestItem, ...] = ()
    returned: tuple[DigestItem, ...] = ()

    # The mail's order: what is already late first.
    GROUPS = (
        ("overdue", "已逾期"),
        ("returned", "退回重办"),
        ("due_soon", "即将到期"),
        ("reports", "待报送进展"),
    )

    def __bool__(self):
        return bool(self.overdue or self.due_soon or self.reports or self.returned)

    def headings(self):
        """Each measure once, in the order the mail lists it, with the headings it is under."""
        found = {}
        for name, label in self.GROUPS:
            for item in getattr(self, name):
                found.setdefault(item.measure.pk, (item.measure, []))[1].append(label)
        return list(found.values())

    @property
    def measures(self):
        return [measure for measure, _ in self.headings()]


def digest_measures():
    """Open measures an owner has to act on, with what a digest needs, in one query."""
    latest_closure = ClosureRequest.objects.filter(measure=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return (
        Measure.objects.open()
        .exclude(status=Measure.Status.PENDING_REVIEW)
        .filter(owner__isnull=False)
        .for_ledger()
        # for_ledger joins the document (with its full text) and the section and prefetches
        # the joint units; a mail needs none of them, and a digest run reads every open measure.
        .select_related(None)
        .prefetch_related(None)
        .select_related("owner", "unit")
        .annotate(
            latest_closure_status=Subquery(latest_closure.values("status")[:1]),
            latest_closure_comment=Subquery(latest_closure.values("comment")[:1]),
        )
        .order_by(F("deadline").asc(nulls_last=True), "document_id", "position")
    )


def owner_digest(user, today):
    """What `user` should hear about today; reads, writes nothing."""
    owed = ReportsOwed.of(Measure.objects.filter(owner=user), today)
    return build_digest(user, digest_measures().filter(owner=user), today, owed)


def build_digest(user, measures, today, owed):
    soon_days = settings.DUE_SOON_DAYS
    groups = defaultdict(list)
    for measure in measures:
        url = absolute_url("measure_detail", measure.pk)
        if measure.is_overdue(today):
            groups["overdue"].append(DigestItem(measure, url, days=measure.days_overdue(today)))
        elif lights.is_due_soon(measure.deadline, today, soon_days):
            days = (measure.deadline - today).days
            groups["due_soon"].append(DigestItem(measure, url, days=days))
        report = owed.report(measure)
        if report:
            groups["reports"].append(DigestItem(measure, url, due=report[0], late=report[1]))
        if (
            measure.latest_closure_status == ClosureRequest.Outcome.RETURNED
            and measure.status == Measure.Status.IN_PROGRESS
        ):
            groups["returned"].append(
                DigestItem(measure, url, comment=measure.latest_closure_comment)
            )
    groups["reports"].sort(key=lambda item: item.due)
    return Digest(user, today, **{name: tuple(items) for name, items in groups.items()})


def reports_ahead_day(today):
    """A report due by the day before this (today included) is listed before it is late."""
    return today + timedelta(days=REPORT_AHEAD_DAYS + 1)


@dataclass(frozen=True)
class ReportsOwed:
    """Which measures owe a progress report: late now, or due within REPORT_AHEAD_DAYS.

    Late is `Measure.objects.report_missing(today)`, the 未按时报送 the dashboard, the 通报
    and the ledger's 黄灯 count. Due ahead asks the same queryset a few days on: would the
    report be missing then if nothing is filed before? That can only change between today and
    then if a due date falls in between, and it is that due date.
    """

    today: date
    late: frozenset  # ids of Measure.objects.report_missing(today)
    ahead: frozenset  # ids of Measure.objects.report_missing(ahead_day)

    @property
    def ahead_day(self):
        return reports_ahead_day(self.today)

    @classmethod
    def of(cls, measures, today):
        """Two queries, whatever the size of `measures` (a Measure queryset)."""

        def missing(day):
            return frozenset(measures.report_missing(day).values_list("pk", flat=True))

        return cls(today, missing(today), missing(reports_ahead_day(today)))

    def report(self, measure):
        """(due date, late) of the progress report the owner owes now, or None."""
        cadence, day = measure.report_cadence, measure.report_day
        if measure.pk in self.late:
            return due_dates_before(cadence, day, self.today)[0], True
        if measure.pk in self.ahead:
            return due_dates_before(cadence, day, self.ahead_day)[0], False
        return None


# Supervisor summary -----------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    today: date
    overdue: int = 0
    due_soon: int = 0
    reports_missing: int = 0
    pending_extensions: int = 0
    pending_closures: int = 0
    rechecks_due: int = 0
    overdue_by_unit: tuple[tuple[str, int], ...] = ()

    @property
    def total(self):
        return (
            self.overdue
            + self.due_soon
            + self.reports_missing
            + self.pending_extensions
            + self.pending_closures
            + self.rechecks_due
        )

    def __bool__(self):
        return self.total > 0


def supervisor_summary(today):
    """The whole ledger in a few counts, from the same queryset methods as the dashboard."""
    overdue = Measure.objects.overdue(today)
    by_unit = (
        overdue.values("unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", F("unit__position").asc(nulls_last=True), "unit__name")
    )
    return Summary(
        today=today,
        overdue=overdue.count(),
        due_soon=Measure.objects.due_soon(today).count(),
        reports_missing=Measure.objects.report_missing(today).count(),
        pending_extensions=ExtensionRequest.objects.pending().count(),
        pending_closures=ClosureRequest.objects.pending().count(),
        rechecks_due=Measure.objects.rechecks_due(today).count(),
        overdue_by_unit=tuple((row["unit__name"] or NO_UNIT, row["n"]) for row in by_unit),
    )


def active_supervisors():
    # The query form of User.is_supervisor, so a run does not ask each user for their groups.
    return User.objects.supervisors().order_by("pk")


def notify_daily(digests, summary):
    """Inbox notices beside the mails: each report coming due or gone missing for its owner,
    and the count of missing reports for the supervisors. A notice is not repeated while it
    is unread, nor on the same day once read, so neither a daily run nor a second run the
    same day piles them up. Returns the number written."""
    Kind = Notification.Kind
    day_start = timezone.make_aware(datetime.combine(summary.today, time()))
    unread = set(
        Notification.objects.filter(kind__in=[Kind.REPORT_DUE, Kind.REPORT_MISSING])
        .filter(Q(read_at__isnull=True) | Q(created_at__gte=day_start))
        .values_list("user_id", "measure_id", "kind")
    )
    notices = []
    for digest in digests:
        for item in digest.reports:
            kind = Kind.REPORT_MISSING if item.late else Kind.REPORT_DUE
            if (digest.user.pk, item.measure.pk, kind) in unread:
                continue
            state = "已过报送日，尚未报送" if item.late else "即将到报送日"
            notices.append(
                Notification(
                    user=digest.user,
                    kind=kind,
                    measure=item.measure,
                    text=f"“{item.measure.title}”{state}（{item.due:%Y-%m-%d}），请填报进展。",
                )
            )
    if summary.reports_missing:
        text = f"{summary.today:%Y-%m-%d}：{summary.reports_missing} 项事项未按时报送进展。"
        notices += [
            Notification(user=s, kind=Kind.REPORT_MISSING, text=text)
            for s in active_supervisors()
            if (s.pk, None, Kind.REPORT_MISSING) not in unread
        ]
    return len(Notification.objects.write(notices))


# The daily run ----------------------------------------------------------------------------


@dataclass
class DailyResult:
    day: date
    dry_run: bool = False
    owner_mails: int = 0  # digests sent (or, in a dry run, that would be sent)
    supervisor_mails: int = 0
    items: int = 0  # measures listed across the owner digests = Reminder rows written
    already_sent: int = 0  # recipients skipped: their mail for the day is in DigestLog
    without_email: int = 0  # recipients with something to read but no address
    failed: int = 0  # mails the server refused; their log is removed, so the next run retries
    recipients: list[str] = field(default_factory=list)
    notices: int = 0  # inbox notices written for reports due or missing


def send_daily(today, *, dry_run=False):
    """Send the day's owner digests and supervisor summaries, each recipient at most once a day.

    A supervisor whose summary would be all zeros gets no mail, like an owner with nothing due.
    Each recipient's DigestLog row (and, for an owner, one Reminder per listed measure) is
    written in a short transaction, and the mail goes out once it has committed: a second run
    the same day finds the log and sends nothing, and a mail the server refuses has its log
    removed again, so the next run retries it. A dry run reads and renders, and neither sends
    nor writes. Queries: a fixed number for the reading, then a fixed number per recipient.

    The counts in the result are of mails actually sent, so inside a caller's transaction they
    are complete only once it has committed.
    """
    result = DailyResult(day=today, dry_run=dry_run)
    done = set(DigestLog.objects.filter(day=today).values_list("recipient_id", "kind"))
    measures = (
        digest_measures()
        .filter(owner__is_active=True)
        .order_by("owner_id", F("deadline").asc(nulls_last=True), "document_id", "position")
    )
    owed = ReportsOwed.of(Measure.objects.all(), today)
    digests = [
        build_digest(owner, group, today, owed)
        for owner, group in groupby(measures, key=lambda measure: measure.owner)
    ]
    summary = supervisor_summary(today)
    supervisors = list(active_supervisors()) if summary else []
    if not dry_run:
        result.notices = notify_daily(digests, summary)
    with nullcontext() if dry_run else mail.get_connection() as connection:
        for digest in filter(None, digests):
            send_owner_digest(digest, result, done, connection)
        for supervisor in supervisors:
            send_summary(supervisor, summary, result, done, connection)
    return result


def send_owner_digest(digest, result, done, connection):
    user = digest.user
    if (user.pk, DigestLog.Kind.OWNER) in done:
        result.already_sent += 1
        return
    if not user.email:
        result.without_email += 1
        return
    headings = digest.headings()
    reminders = [
        Reminder(
            measure=measure,
            recipient=user,
            sent_by=None,
            kind=Reminder.Kind.DIGEST,
            note="每日提醒：" + "、".join(labels),
            emailed=True,
        )
        for measure, labels in headings
    ]
    body = render_to_string(
        "tracker/email/owner_digest.txt",
        {"digest": digest, "my_url": absolute_url("my_measures"), "count": len(headings)},
    )
    subject = f"【督办提醒】{digest.today:%Y-%m-%d} 您有{len(headings)}项督办事项需要办理"
    if digest.overdue:
        subject += f"（其中逾期{len(digest.overdue)}项）"
    message = mail.EmailMessage(subject, body, to=[user.email], connection=connection)

    def sent():
        result.owner_mails += 1
        result.items += len(headings)

    log_and_send(result, user, DigestLog.Kind.OWNER, len(headings), message, sent, reminders)


def send_summary(supervisor, summary, result, done, connection):
    if (supervisor.pk, DigestLog.Kind.SUPERVISOR) in done:
        result.already_sent += 1
        return
    if not supervisor.email:
        result.without_email += 1
        return
    body = render_to_string(
        "tracker/email/supervisor_summary.txt",
        {
            "supervisor": supervisor,
            "summary": summary,
            "overdue_url": absolute_url("overdue"),
            "due_soon_url": absolute_url("measure_list", query="due=soon"),
            "reports_url": absolute_url("measure_list", query="light=yellow"),
            "pending_url": absolute_url("measure_list", query="status=pending_review"),
            "ledger_url": absolute_url("measure_list"),
        },
    )
    subject = (
        f"【督办汇总】{summary.today:%Y-%m-%d} 逾期{summary.overdue}项、"
        f"即将到期{summary.due_soon}项、待审核{summary.pending_closures}项"
    )
    message = mail.EmailMessage(subject, body, to=[supervisor.email], connection=connection)

    def sent():
        result.supervisor_mails += 1

    log_and_send(result, supervisor, DigestLog.Kind.SUPERVISOR, summary.total, message, sent)


def log_and_send(result, recipient, kind, items, message, sent, reminders=()):
    """Log, then send once the log has committed; `sent()` is called if the mail went out.

    The log is written first and committed, so a second run (even one racing this) finds it
    and does not mail the same person twice; the mail leaves after the commit, so no lock is
    held while the mail server answers. A mail the server refuses has its log, reminders and
    history lines removed again, so the next run retries it.
    """
    if result.dry_run:
        result.recipients.append(recipient.email)
        sent()
        return
    try:
        with transaction.atomic():
            # The unique (recipient, day, kind) row goes first: a second run racing this one
            # stops here instead of mailing the same person twice.
            log = DigestLog.objects.create(
                recipient=recipient, day=result.day, kind=kind, items=items
            )
            written = Reminder.objects.bulk_create(reminders)
            # Every reminder is a step in the measure's history too.
            history = Change.objects.write(
                Change(
                    measure=r.measure,
                    field="reminder",
                    new=str(recipient),
                    note=r.note,
                    version=r.measure.version,
                )
                for r in reminders
            )
            transaction.on_commit(
                lambda: send_logged(result, recipient, message, sent, log, written, history)
            )
    except IntegrityError:
        result.already_sent += 1


def send_logged(result, recipient, message, sent, log, reminders, history):
    """on_commit: send a logged mail; if it could not be sent, take the log back.

    A mail server that refuses or cannot be reached (OSError: smtplib.SMTPException and
    socket errors) is counted as failed; anything else is raised once the log is taken back.
    """
    try:
        message.send()
    except Exception as error:
        with transaction.atomic():
            Change.objects.filter(pk__in=[entry.pk for entry in history]).delete()
            Reminder.objects.filter(pk__in=[reminder.pk for reminder in reminders]).delete()
            DigestLog.objects.filter(pk=log.pk).delete()
        if not isinstance(error, OSError):
            raise
        logger.exception("每日提醒发送失败：%s", recipient.email)
        result.failed += 1
        return
    result.recipients.append(recipient.email)
    sent()
