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
  (lights.report_missing, i.e. 未按时报送) or the next report is due within REPORT_AHEAD_DAYS
  days (today included) and has not been filed yet.
- 退回重办: the latest 办结 request was returned and the measure is still 推进中.

Measures 待审核 are left out of owner digests: the owner has asked to close them and the next
step is the supervisor's; they are counted in the supervisor summary instead.
"""

import logging
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby

from django.conf import settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .lights import due_dates_before, report_missing
from .models import (
    Change,
    ClosureRequest,
    Decision,
    DigestLog,
    ExtensionRequest,
    Measure,
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
    """Mail the owners about Reminder rows just written by `Measure.remind`; returns mails sent.

    One mail per recipient, listing all of their measures (a unit's 集中催办 becomes one mail per
    owner). Rows already mailed are skipped, so calling this twice does not mail twice. A
    recipient without an address, or a mail the server refuses, leaves `emailed` False: the
    reminder stays on record and the page can show it was not mailed.
    """
    today = today or timezone.localdate()
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
        # for_ledger joins the document (with its full text) and the section; a mail needs
        # neither, and a digest run reads every open measure.
        .select_related(None)
        .select_related("owner", "unit")
        .annotate(
            latest_closure_status=Subquery(latest_closure.values("status")[:1]),
            latest_closure_comment=Subquery(latest_closure.values("comment")[:1]),
        )
        .order_by(F("deadline").asc(nulls_last=True), "document_id", "position")
    )


def owner_digest(user, today):
    """What `user` should hear about today; reads, writes nothing."""
    return build_digest(user, digest_measures().filter(owner=user), today)


def build_digest(user, measures, today):
    soon_days = settings.DUE_SOON_DAYS
    groups = defaultdict(list)
    for measure in measures:
        url = absolute_url("measure_detail", measure.pk)
        if measure.deadline is not None:
            days = (measure.deadline - today).days
            if days < 0:
                groups["overdue"].append(DigestItem(measure, url, days=-days))
            elif days <= soon_days:
                groups["due_soon"].append(DigestItem(measure, url, days=days))
        report = report_owed(measure, today)
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


def report_owed(measure, today):
    """(due date, late) of the progress report the owner owes now, or None.

    Late is lights.report_missing as the ledger's 黄灯 sees it. Due soon asks the same question
    a few days ahead: would the report be missing then if nothing is filed before? That can only
    change between today and then if a due date falls in between, and it is that due date.
    """
    cadence, day = measure.report_cadence, measure.report_day
    facts = (cadence, day, measure.latest_progress_at, measure.assigned_at)
    if report_missing(*facts, today):
        return due_dates_before(cadence, day, today)[0], True
    ahead = today + timedelta(days=REPORT_AHEAD_DAYS + 1)
    if report_missing(*facts, ahead):
        return due_dates_before(cadence, day, ahead)[0], False
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
    """The whole ledger in a few counts, using the same querysets and lights as the pages."""
    open_measures = Measure.objects.open()
    overdue = Measure.objects.overdue(today)
    by_unit = (
        overdue.values("unit__name")
        .annotate(n=Count("pk"))
        .order_by("-n", F("unit__position").asc(nulls_last=True), "unit__name")
    )
    return Summary(
        today=today,
        overdue=overdue.count(),
        due_soon=Measure.objects.due_soon(today, days=settings.DUE_SOON_DAYS).count(),
        reports_missing=sum(
            report_missing(
                row["report_cadence"],
                row["report_day"],
                row["latest_progress_at"],
                row["assigned_at"],
                today,
            )
            for row in open_measures.light_inputs()
        ),
        pending_extensions=ExtensionRequest.objects.filter(
            status=Decision.PENDING, measure__archived_at__isnull=True
        ).count(),
        pending_closures=ClosureRequest.objects.filter(
            status=ClosureRequest.Outcome.PENDING, measure__archived_at__isnull=True
        ).count(),
        rechecks_due=Measure.objects.done().filter(recheck_on__lte=today).count(),
        overdue_by_unit=tuple((row["unit__name"] or NO_UNIT, row["n"]) for row in by_unit),
    )


def active_supervisors():
    # The query form of User.is_supervisor, so a run does not ask each user for their groups.
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=User.SUPERVISOR))
        .distinct()
        .order_by("pk")
    )


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
    failed: int = 0  # mails the server refused; not logged, so the next run retries them
    recipients: list[str] = field(default_factory=list)


def send_daily(today, *, dry_run=False):
    """Send the day's owner digests and supervisor summaries, each recipient at most once a day.

    A supervisor whose summary would be all zeros gets no mail, like an owner with nothing due.
    Each mail is sent inside the transaction that writes its DigestLog row (and, for an owner,
    one Reminder per listed measure): a failed send writes nothing, and a second run the same
    day finds the log and sends nothing. A dry run reads and renders, and neither sends nor
    writes. Queries: a fixed number for the reading, then a fixed number per recipient.
    """
    result = DailyResult(day=today, dry_run=dry_run)
    done = set(DigestLog.objects.filter(day=today).values_list("recipient_id", "kind"))
    measures = (
        digest_measures()
        .filter(owner__is_active=True)
        .order_by("owner_id", F("deadline").asc(nulls_last=True), "document_id", "position")
    )
    digests = [
        build_digest(owner, group, today)
        for owner, group in groupby(measures, key=lambda measure: measure.owner)
    ]
    summary = supervisor_summary(today)
    supervisors = list(active_supervisors()) if summary else []
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
    if log_and_send(result, user, DigestLog.Kind.OWNER, len(headings), message, reminders):
        result.owner_mails += 1
        result.items += len(headings)


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
    if log_and_send(result, supervisor, DigestLog.Kind.SUPERVISOR, summary.total, message):
        result.supervisor_mails += 1


def log_and_send(result, recipient, kind, items, message, reminders=()):
    """Log and send together: either both happen or neither does. Returns whether it was sent."""
    if result.dry_run:
        result.recipients.append(recipient.email)
        return True
    try:
        with transaction.atomic():
            # The unique (recipient, day, kind) row goes first: a second run racing this one
            # stops here instead of mailing the same person twice.
            DigestLog.objects.create(recipient=recipient, day=result.day, kind=kind, items=items)
            Reminder.objects.bulk_create(reminders)
            # Every reminder is a step in the measure's history too.
            Change.objects.bulk_create(
                Change(
                    measure=r.measure,
                    field="reminder",
                    new=str(recipient),
                    note=r.note,
                    version=r.measure.version,
                )
                for r in reminders
            )
            message.send()
    except IntegrityError:
        result.already_sent += 1
        return False
    except OSError:  # smtplib.SMTPException and socket errors; the rollback un-logs it
        logger.exception("每日提醒发送失败：%s", recipient.email)
        result.failed += 1
        return False
    result.recipients.append(recipient.email)
    return True
