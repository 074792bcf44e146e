import secrets
import uuid
from datetime import datetime, time, timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Concat, Greatest, Least, StrIndex, TruncDate
from django.utils import timezone

from . import bulk, lights


class NameManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


def unit_key(name: str) -> str:
    """How unit names are compared: documents mix full- and half-width brackets and spaces."""
    return "".join(name.split()).replace("(", "（").replace(")", "）")


class UnitQuerySet(models.QuerySet):
    def get_by_natural_key(self, name):
        return self.get(name=name)

    def resolve(self, names, document=None):
        """Map unit names as documents write them to Unit rows, by name or alias.

        Unknown names become new units, remembered as created by `document`, so a supervisor
        can review them and merge each into an existing unit. Returns ({name: Unit}, [new]).
        """
        wanted = {unit_key(n): n for n in names if n.strip()}
        if not wanted:
            return {}, []
        # Only the rows that can match: each name as written and in its bracket forms.
        spellings = set()
        for key in wanted:
            spellings |= {key, key.replace("（", "(").replace("）", ")")}
        spellings |= {n.strip() for n in wanted.values()}
        # One query for both ways a name can match; `spelled` is the name or the alias matched.
        # Plain SQL: every imported document asks, and the ORM's union() cost more to compile
        # than the database took to answer.
        unit, alias = Unit._meta.db_table, UnitAlias._meta.db_table
        columns = ", ".join(f"u.{f.column}" for f in Unit._meta.concrete_fields)
        spellings = sorted(spellings)
        marks = ", ".join(["%s"] * len(spellings))
        matches = self.raw(
            f"SELECT {columns}, u.name AS spelled FROM {unit} u WHERE u.name IN ({marks})"
            f" UNION ALL SELECT {columns}, a.name AS spelled FROM {unit} u"
            f" JOIN {alias} a ON a.unit_id = u.id WHERE a.name IN ({marks})",
            [*spellings, *spellings],
        )
        found = {}
        for unit in sorted(matches, key=lambda u: u.spelled != u.name):  # names before aliases
            found.setdefault(unit_key(unit.spelled), unit)
        missing = {key: name.strip()[:100] for key, name in wanted.items() if key not in found}
        created = []
        if missing:
            # One insert for all of them; a unit another import made meanwhile is kept as is.
            self.bulk_create(
                [Unit(name=name, created_from=document) for name in sorted(set(missing.values()))],
                ignore_conflicts=True,
            )
            made = {u.name: u for u in self.filter(name__in=missing.values())}
            for key, name in missing.items():
                found[key] = made[name]
            created = sorted(made.values(), key=lambda u: u.name)
        return {n: found[unit_key(n)] for n in names if n.strip()}, created


class Unit(models.Model):
    """An office unit (司局/处室). Units form a small tree: a bureau and its divisions."""

    name = models.CharField("名称", max_length=100, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    position = models.PositiveIntegerField("排序", default=0)
    # Units the importer met for the first time: listed on that document's page for review.
    created_from = models.ForeignKey(
        "Document",
        verbose_name="由此文件导入时新建",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_units",
    )

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.name,)

    def merge_into(self, target, user):
        """Move everything of this unit to `target`, keep its name as an alias, then delete it.

        Nothing is lost: every measure that named this unit names the target instead, with a
        history line; people, sub-units and aliases move too.
        """
        if target.pk == self.pk:
            raise WorkflowError("不能把单位合并到它自己。")
        with transaction.atomic():
            source = Unit.objects.select_for_update().get(pk=self.pk)
            note = f"单位合并：{source.name} → {target.name}"
            named = Measure.objects.filter(
                Q(unit=source) | Q(joint_units=source) | Q(co_units=source)
            ).values("pk")
            # PostgreSQL refuses FOR UPDATE with DISTINCT: lock by id instead.
            for measure in Measure.objects.filter(pk__in=named).select_for_update():
                measure.replace_unit(source, target, user, note)
            User.objects.filter(unit=source).update(unit=target)
            Unit.objects.filter(parent=source).update(parent=target)
            UnitAlias.objects.filter(unit=source).update(unit=target)
            UnitAlias.objects.get_or_create(name=source.name, defaults={"unit": target})
            source.delete()


class UnitAlias(models.Model):
    """Another name documents use for a unit: 民政局 for 市民政局."""

    unit = models.ForeignKey(
        Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField("别名", max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "单位别名"
        verbose_name_plural = "单位别名"

    def __str__(self):
        return f"{self.name} = {self.unit}"


class PeopleManager(UserManager):
    def supervisors(self):
        return self.filter(
            Q(is_superuser=True) | Q(groups__name=User.SUPERVISOR), is_active=True
        ).distinct()

    def unit_staff(self, units):
        """The 责任人 of these units (Unit rows or ids)."""
        return self.filter(unit__in=units, groups__name=User.STAFF, is_active=True).distinct()

    def assignable(self):
        """Who can own a measure: active 责任人 and 督查员, never a leader only."""
        return self.filter(
            Q(groups__name=User.STAFF) | Q(groups__name=User.SUPERVISOR), is_active=True
        ).distinct()


class User(AbstractUser):
    SUPERVISOR = "督查员"
    STAFF = "责任人"
    LEADER = "领导"
    ROLES = (SUPERVISOR, STAFF, LEADER)

    name = models.CharField("姓名", max_length=50, blank=True)
    unit = models.ForeignKey(
        Unit,
        verbose_name="所属单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )
    # The secret in the user's calendar feed address (/calendar/<token>.ics); reset anew.
    calendar_token = models.CharField(
        "日历订阅口令", max_length=64, unique=True, null=True, blank=True, editable=False
    )

    objects = PeopleManager()

    class Meta:
        ordering = ["username"]
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.name or self.username

    @cached_property
    def role_names(self):
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def is_supervisor(self):
        return self.is_superuser or self.SUPERVISOR in self.role_names

    @property
    def is_leader(self):
        return self.LEADER in self.role_names

    @property
    def is_unit_staff(self):
        return self.STAFF in self.role_names

    def reset_calendar_token(self):
        self.calendar_token = secrets.token_urlsafe(32)
        self.save(update_fields=["calendar_token"])
        return self.calendar_token

    def is_responsible_for(self, measure):
        return measure.owner_id == self.pk or (
            self.unit_id is not None and self.unit_id in measure.lead_unit_ids
        )

    def editable_fields(self, measure):
        """What this person may change on a measure; checked on the server for every POST."""
        if self.is_supervisor:
            return Measure.SUPERVISOR_FIELDS
        if self.STAFF in self.role_names and self.is_responsible_for(measure):
            return Measure.STAFF_FIELDS
        return ()

    def can_see_workflow(self, measure):
        """Evidence and requests: supervisors, leaders, the owner and the measure's units."""
        if self.is_supervisor or self.is_leader or measure.owner_id == self.pk:
            return True
        units = measure.lead_unit_ids | {u.pk for u in measure.co_units.all()}
        return self.unit_id is not None and self.unit_id in units

    def can_report_progress(self, measure):
        return "status" in self.editable_fields(measure)

    def allowed_statuses(self, measure):
        """Statuses this person may set by editing; closing goes through 办结审核."""
        if "status" not in self.editable_fields(measure):
            return ()
        if self.is_supervisor:
            # 已办结 only through 办结审核 or 直接销号 (with a note), never a bare status change.
            closing = (Measure.Status.PENDING_REVIEW, Measure.Status.DONE)
            return tuple(s for s in Measure.Status if s not in closing)
        # 待审核, 已办结 and 暂缓 are left by a supervisor's decision, never by the owner.
        if measure.status not in Measure.STAFF_STATUSES:
            return ()
        return Measure.STAFF_STATUSES


class Topic(models.Model):
    name = models.CharField("名称", max_length=50, unique=True)

    objects = NameManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "领域"
        verbose_name_plural = "领域"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.name,)


class DocumentManager(models.Manager):
    def get_by_natural_key(self, source):
        return self.get(source=source)


class Document(models.Model):
    source = models.CharField("来源文件", max_length=500, unique=True)
    sha256 = models.CharField("原文SHA-256", max_length=64)
    title = models.CharField("标题", max_length=300)
    title_is_fallback = models.BooleanField(
        "标题为推断", default=False, help_text="原文无标题行时，以所论著作或首个章节代替。"
    )
    organization = models.CharField("发文单位", max_length=200, blank=True)
    author = models.CharField("作者", max_length=100, blank=True)
    raw_text = models.TextField("原文")
    clean_text = models.TextField("清洗后正文")
    repairs = models.JSONField("清洗记录", default=list, blank=True)
    imported_at = models.DateTimeField("导入时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = DocumentManager()

    class Meta:
        ordering = ["source"]
        verbose_name = "文件"
        verbose_name_plural = "文件"

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.source,)


class SectionManager(models.Manager):
    def get_by_natural_key(self, source, path):
        return self.get(document__source=source, path=path)


class Section(models.Model):
    class Kind(models.TextChoices):
        HEADING = "heading", "标题"
        KEY_TASK = "key_task", "重点任务"

    document = models.ForeignKey(
        Document, verbose_name="文件", on_delete=models.CASCADE, related_name="sections"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    title = models.CharField("标题", max_length=300)
    subtitle = models.CharField("副标题", max_length=300, blank=True)
    # "一要 … › 坚持…": written once by the importer, so the ledger never walks the tree.
    path = models.CharField("章节路径", max_length=1000)
    text = models.TextField("段落原文", blank=True)
    position = models.PositiveIntegerField("顺序")
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)

    objects = SectionManager()

    class Meta:
        ordering = ["document_id", "position"]
        verbose_name = "章节"
        verbose_name_plural = "章节"
        constraints = [
            models.UniqueConstraint(fields=["document", "path"], name="section_unique_path"),
            models.CheckConstraint(
                condition=Q(kind__in=["heading", "key_task"]), name="section_kind_valid"
            ),
        ]

    def __str__(self):
        return self.path

    def natural_key(self):
        return (*self.document.natural_key(), self.path)

    natural_key.dependencies = ["tracker.document"]


# The one definition of open, overdue and due soon, for filters, counts and CASE buckets alike.
def open_q():
    return ~Q(status__in=Measure.CLOSED_STATUSES)


def overdue_q(today):
    """Overdue: the deadline is before today (Asia/Shanghai) and the measure is still open."""
    return open_q() & Q(deadline__lt=today)


def due_soon_q(today, days=None):
    days = settings.DUE_SOON_DAYS if days is None else days
    return open_q() & Q(deadline__gte=today, deadline__lte=today + timedelta(days=days))


def unassigned_q():
    """待交办: no owner or no lead unit yet."""
    return Q(owner__isnull=True) | Q(unit__isnull=True)


def report_boundary(today):
    """Per row, the start (Asia/Shanghai) of the day after its cycle's opening due date.

    The due dates depend only on (cadence, day) and today, so each of the 63 possible cycles
    gets its boundary computed once in Python (lights.due_dates_before) and the database picks
    one with a CASE. No cycle: NULL, and every comparison with it is false.
    """
    whens = []
    for cadence, day in cycles_in_use():
        _latest, previous = lights.due_dates_before(cadence, day, today)
        boundary = timezone.make_aware(datetime.combine(previous + timedelta(days=1), time()))
        whens.append(
            models.When(report_cadence=cadence, report_day=day, then=models.Value(boundary))
        )
    if not whens:
        return models.Value(None, output_field=models.DateTimeField())
    return models.Case(*whens, output_field=models.DateTimeField())


def cycles_in_use():
    """The (cadence, day) pairs measures actually use: one small indexed query. Offices use a
    handful of the 63 possible cycles, and every branch left out of the CASE is work the
    database skips on every row (and SQL the ORM does not build)."""
    # `> ''` rather than `!= ''`: a range both databases answer from the index.
    return (
        Measure.objects.filter(report_cadence__gt="")
        .order_by()
        .values_list("report_cadence", "report_day")
        .distinct()
    )


def report_missing_q():
    """未按时报送, as lights.report_missing defines it, for a queryset with the aliases
    `report_boundary` and `latest_progress_at` (MeasureQuerySet.with_report_facts):
    assigned before the boundary and no report since."""
    # The cheap column tests first: most rows fail them, and the database then never looks
    # up their latest report (a subquery per row).
    return (
        ~Q(report_cadence="")
        & Q(assigned_at__isnull=False)
        & open_q()
        & Q(assigned_at__lt=F("report_boundary"))
        & (Q(latest_progress_at__isnull=True) | Q(latest_progress_at__lt=F("report_boundary")))
    )


class DayNumber(models.Func):
    """A date as a count of days, the same on SQLite and PostgreSQL, so dates subtract."""

    output_field = models.IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)", **extra
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="(CAST(%(expressions)s AS date) - DATE '2000-01-01')",
            **extra,
        )


EPOCH = datetime(2000, 1, 1, tzinfo=timezone.get_fixed_timezone(0))

# Most urgent first: the order of ?sort=light, as positions in one string (see by_urgency).
URGENCY = " red yellow unassigned blue green paused done"


class LightLetters(models.Aggregate):
    """A group's lights run together, one letter a measure (lights.tally counts them).

    Counting by light with the light as a GROUP BY key makes SQLite, which has no hash
    aggregate, sort every measure by its computed light. Grouping by indexed columns alone and
    tallying the lights inside each group lets it stream the groups straight off the index.
    """

    function = "GROUP_CONCAT"
    template = "%(function)s(SUBSTR(%(expressions)s, 1, 1), '')"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="STRING_AGG", **extra)


def light_case(today, thresholds):
    """lights.light() as one SQL CASE, for a queryset annotated by `with_light`."""
    Light = lights.Light
    behind = Q(
        assigned_at__isnull=False,
        deadline__isnull=False,
        pace_span__gt=0,
        pace_elapsed_x100__gt=F("pace_allowed"),
    )
    return models.Case(
        models.When(status=Measure.Status.DONE, then=models.Value(Light.DONE.value)),
        models.When(status=Measure.Status.SUSPENDED, then=models.Value(Light.PAUSED.value)),
        models.When(deadline__lt=today, then=models.Value(Light.RED.value)),
        models.When(report_missing_q() | behind, then=models.Value(Light.YELLOW.value)),
        models.When(unassigned_q(), then=models.Value(Light.UNASSIGNED.value)),
        models.When(due_soon_q(today, thresholds.soon_days), then=models.Value(Light.BLUE.value)),
        default=models.Value(Light.GREEN.value),
        output_field=models.CharField(),
    )


def latest_progress():
    return ProgressUpdate.objects.filter(measure=OuterRef("pk")).order_by("-created_at", "-id")


class MeasureQuerySet(models.QuerySet):
    def get_by_natural_key(self, source, fingerprint):
        return self.get(document__source=source, fingerprint=fingerprint)

    def active(self):
        return self.filter(archived_at__isnull=True)

    def open(self):
        return self.active().filter(open_q())

    def overdue(self, today):
        return self.active().filter(overdue_q(today))

    def due_soon(self, today, days=None):
        return self.active().filter(due_soon_q(today, days))

    def done(self):
        return self.active().filter(status=Measure.Status.DONE)

    def unassigned(self):
        """待交办: open measures still without an owner or a lead unit."""
        return self.open().filter(unassigned_q())

    def assigned(self):
        """The other half of the 交办 filter: open measures with an owner and a lead unit."""
        return self.open().exclude(unassigned_q())

    def with_report_facts(self, today):
        """Aliases (not selected) that the 未按时报送 rule reads."""
        qs = self
        if "latest_progress_at" not in qs.query.annotations:
            qs = qs.alias(latest_progress_at=Subquery(latest_progress().values("created_at")[:1]))
        return qs.alias(report_boundary=report_boundary(today))

    def with_light(self, today, thresholds=None):
        """Annotate `light` (a lights.Light value), computed in the database as one CASE.

        The rules are lights.light(); tests/test_light_sql.py checks the two agree on
        generated measures at every boundary, on SQLite and PostgreSQL alike. Intermediate
        values are aliases, so the SQL selects one extra column.
        """
        thresholds = thresholds or lights.Thresholds.from_settings()
        qs = self.with_report_facts(today)
        if "latest_percent" not in qs.query.annotations:
            qs = qs.alias(
                latest_percent=Subquery(
                    latest_progress().filter(percent__isnull=False).values("percent")[:1]
                )
            )
        start = DayNumber(TruncDate("assigned_at", tzinfo=timezone.get_default_timezone()))
        span = DayNumber("deadline") - start
        elapsed = Least(Greatest(DayNumber(models.Value(today)) - start, models.Value(0)), span)
        qs = qs.alias(
            pace_span=span,
            # elapsed% - percent > gap  ⇔  elapsed·100 > (gap + percent)·span, for span > 0
            pace_elapsed_x100=elapsed * 100,
            pace_allowed=(thresholds.pace_gap + Coalesce("latest_percent", 0)) * span,
        )
        return qs.annotate(light=light_case(today, thresholds))

    def light_tallies(self, today, *keys, thresholds=None, **aggregates):
        """Per group of `keys`: the keys, then `lights` (a LightLetters string for
        lights.tally), then `aggregates`. Put the keys in the order of an index that covers
        the light's inputs, and the groups stream off it unsorted."""
        return (
            self.with_light(today, thresholds)
            .order_by()
            .values_list(*keys)
            .annotate(lights=LightLetters("light"), **aggregates)
        )

    def by_urgency(self):
        """Red first, then yellow, blue, green, paused, done; for a with_light queryset."""
        rank = StrIndex(models.Value(URGENCY), Concat(models.Value(" "), F("light")))
        return self.order_by(rank, F("deadline").asc(nulls_last=True), "pk")

    def report_missing(self, today):
        """未按时报送: the one definition the dashboard, 通报, reminders and export count."""
        return self.active().with_report_facts(today).filter(report_missing_q())

    def rechecks_due(self, today):
        """回头看 whose date has come."""
        return self.done().filter(recheck_on__lte=today)

    def for_ledger(self):
        """Everything a ledger row shows, in one query (applying it twice changes nothing)."""
        if "latest_progress" in self.query.annotations:
            return self
        latest = latest_progress()
        return (
            self.select_related("document", "section", "unit", "owner")
            # A row shows the document's title, never its texts (tens of KB each).
            .defer(
                "document__raw_text",
                "document__clean_text",
                "document__repairs",
                "section__text",
            )
            .prefetch_related(
                models.Prefetch(
                    "joint_units",
                    queryset=Unit.objects.only("name", "position"),
                    to_attr="joint_list",
                )
            )
            .annotate(
                latest_progress=Subquery(latest.values("progress")[:1]),
                latest_progress_at=Subquery(latest.values("created_at")[:1]),
                latest_percent=Subquery(latest.filter(percent__isnull=False).values("percent")[:1]),
            )
        )

    def with_attention(self):
        """`returned` (退回重办) and `reminded` (催办) that no progress report has followed
        yet: what the owner must deal with first. For a `for_ledger()` queryset."""
        since = Coalesce(OuterRef("latest_progress_at"), models.Value(EPOCH))
        return self.annotate(
            returned=models.Exists(
                ClosureRequest.objects.filter(
                    measure=OuterRef("pk"),
                    status=ClosureRequest.Outcome.RETURNED,
                    decided_at__gt=since,
                )
            ),
            reminded=models.Exists(
                Reminder.objects.filter(
                    measure=OuterRef("pk"), kind=Reminder.Kind.MANUAL, created_at__gt=since
                )
            ),
        )

    def worklist(self, user, today):
        """A person's own measures, most urgent first: 退回重办 and 催办, then overdue,
        reports owed, due soon, the rest, waiting for review, closed."""
        qs = self.active().for_ledger().filter(owner=user).with_attention()
        qs = qs.with_report_facts(today)
        staff_open = Q(status__in=Measure.STAFF_STATUSES)
        return qs.annotate(
            missing=models.Case(
                models.When(staff_open & report_missing_q(), then=True),
                default=False,
                output_field=models.BooleanField(),
            ),
            bucket=models.Case(
                models.When(staff_open & (Q(returned=True) | Q(reminded=True)), then=0),
                # Waiting for sign-off: whatever its dates, the owner has nothing to do now.
                models.When(status=Measure.Status.PENDING_REVIEW, then=5),
                models.When(overdue_q(today), then=1),
                models.When(report_missing_q(), then=2),
                models.When(due_soon_q(today), then=3),
                models.When(staff_open, then=4),
                default=6,
                output_field=models.IntegerField(),
            ),
        ).order_by("bucket", F("deadline").asc(nulls_last=True), "pk")

    def for_unit(self, unit):
        """Measures a unit leads, alone or jointly."""
        # A UNION of two indexed lookups: an OR of the two would scan the whole table.
        lead = Measure.objects.filter(unit=unit).order_by().values("pk")
        joint = Measure.joint_units.through.objects.filter(unit=unit).order_by()
        return self.filter(pk__in=lead.union(joint.values("measure_id")))


class Measure(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "未启动"
        IN_PROGRESS = "in_progress", "推进中"
        PENDING_REVIEW = "pending_review", "待审核"
        DONE = "done", "已办结"
        SUSPENDED = "suspended", "暂缓"

    class Cadence(models.TextChoices):
        NONE = "", "不定期"
        WEEKLY = "weekly", "每周"
        MONTHLY = "monthly", "每月"
        QUARTERLY = "quarterly", "每季度"

    CLOSED_STATUSES = (Status.DONE, Status.SUSPENDED)
    # Closing goes through 办结审核: staff set only these, and only on a measure in one of them.
    STAFF_STATUSES = (Status.NOT_STARTED, Status.IN_PROGRESS)
    SUPERVISOR_FIELDS = (
        "title",
        "status",
        "owner",
        "unit",
        "joint_units",
        "co_units",
        "deadline",
        "report_cadence",
        "report_day",
        "recheck_on",
    )
    STAFF_FIELDS = ("status",)

    class Conflict(Exception):
        """Somebody saved the measure after the editor loaded it."""

        def __init__(self, current, changes):
            super().__init__("version conflict")
            self.current = current
            self.changes = changes

    # No index of their own for document, owner and unit: measure_ledger_order,
    # measure_owner_status and measure_unit_status lead with them, and every index is work
    # on each insert and update.
    document = models.ForeignKey(
        Document,
        verbose_name="来源文件",
        on_delete=models.PROTECT,
        related_name="measures",
        db_index=False,
    )
    section = models.ForeignKey(
        Section, verbose_name="章节", on_delete=models.PROTECT, related_name="measures"
    )
    position = models.PositiveIntegerField("序号")
    # Identity across re-imports: a digest of section path and source sentence.
    fingerprint = models.CharField("指纹", max_length=64)
    title = models.CharField("任务名称", max_length=100)
    text = models.TextField("任务原文")
    source_start = models.PositiveIntegerField("原文起点", default=0)
    source_end = models.PositiveIntegerField("原文终点", default=0)
    topics = models.ManyToManyField(Topic, verbose_name="领域", blank=True, related_name="measures")
    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.NOT_STARTED
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="measures",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="牵头单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_measures",
        db_index=False,
    )
    # A task may name several lead units; the first is `unit`, the one the ledger ranks.
    joint_units = models.ManyToManyField(
        Unit, verbose_name="共同牵头单位", blank=True, related_name="joint_measures"
    )
    co_units = models.ManyToManyField(
        Unit, verbose_name="配合单位", blank=True, related_name="co_measures"
    )
    units_text = models.CharField("原文单位", max_length=500, blank=True)
    deadline = models.DateField("完成时限", null=True, blank=True)
    deadline_phrase = models.CharField("原文时限", max_length=50, blank=True)
    long_term = models.BooleanField(
        "长期任务", default=False, help_text="原文为长期坚持、持续推进。"
    )
    original_deadline = models.DateField(
        "原定时限", null=True, blank=True, help_text="首次批准延期前的完成时限。"
    )
    assigned_at = models.DateTimeField("分解落实时间", null=True, blank=True)
    report_cadence = models.CharField(
        "报送周期", max_length=10, choices=Cadence.choices, default=Cadence.NONE, blank=True
    )
    report_day = models.PositiveSmallIntegerField(
        "报送日",
        null=True,
        blank=True,
        help_text="每周：星期几（1–7）；每月：几号（1–28）；每季度：季末月几号（1–28）。",
    )
    recheck_on = models.DateField("回头看日期", null=True, blank=True)
    # When it was 销号: the monthly 通报 counts closures by this, never by a display label.
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    # Set by every staff edit; the importer only ever rewrites measures where this is empty.
    staff_edited_at = models.DateTimeField("人工修改时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["document_id", "position"]
        verbose_name = "督办事项"
        verbose_name_plural = "督办事项"
        constraints = [
            models.UniqueConstraint(
                fields=["document", "fingerprint"],
                condition=Q(archived_at__isnull=True),
                name="measure_unique_live_fingerprint",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="measure_version_positive"),
            models.CheckConstraint(
                condition=Q(
                    status__in=["not_started", "in_progress", "pending_review", "done", "suspended"]
                ),
                name="measure_status_valid",
            ),
            models.CheckConstraint(
                condition=(Q(report_cadence="") & Q(report_day__isnull=True))
                | (Q(report_cadence="weekly") & Q(report_day__gte=1, report_day__lte=7))
                | (
                    Q(report_cadence__in=["monthly", "quarterly"])
                    & Q(report_day__gte=1, report_day__lte=28)
                ),
                name="measure_report_day_fits_cadence",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="measure_status_deadline"),
            models.Index(fields=["unit", "status"], name="measure_unit_status"),
            models.Index(fields=["owner", "status"], name="measure_owner_status"),
            # Covers the overdue test (deadline, open, not archived): the dashboard's counts over
            # the overdue range read the index, never the rows with their source text.
            models.Index(fields=["deadline", "status", "archived_at"], name="measure_deadline"),
            models.Index(fields=["report_cadence", "report_day"], name="measure_report_cycle"),
            # Every column a light is computed from: the dashboard's GROUP BY over the whole
            # ledger then reads this index, not the table (whose rows carry the source text),
            # and its unit × owner groups come in index order (light_tallies).
            models.Index(
                fields=[
                    "unit",
                    "owner",
                    "status",
                    "deadline",
                    "report_cadence",
                    "report_day",
                    "assigned_at",
                    "archived_at",
                ],
                name="measure_light_inputs",
            ),
            # The 通报's "办结 this month": only closed measures, so it stays small, and it covers
            # the count by unit, so the month's range never reads a row.
            models.Index(
                fields=["closed_at", "unit", "archived_at"],
                name="measure_closed",
                condition=Q(closed_at__isnull=False),
            ),
            # The ledger's default order: lets a page of 100 stop after 100 rows.
            models.Index(fields=["document", "position"], name="measure_ledger_order"),
        ]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (*self.document.natural_key(), self.fingerprint)

    natural_key.dependencies = ["tracker.document", "tracker.section"]

    @property
    def joint_unit_list(self):
        # for_ledger() prefetches them into a plain list: a page of rows then never builds a
        # related manager per row (most of a ledger query's cost in Python).
        if "joint_list" in self.__dict__:
            return self.joint_list
        return list(self.joint_units.all())

    @cached_property
    def lead_unit_ids(self):
        return {self.unit_id, *(u.pk for u in self.joint_unit_list)} - {None}

    @property
    def lead_units_display(self):
        units = [self.unit, *self.joint_unit_list] if self.unit_id else []
        return "、".join(u.name for u in units)

    @property
    def is_closed(self):
        return self.status in self.CLOSED_STATUSES

    def is_overdue(self, today):
        return not self.is_closed and self.deadline is not None and self.deadline < today

    def days_overdue(self, today):
        return (today - self.deadline).days if self.is_overdue(today) else 0

    @staticmethod
    def display_value(field, value):
        if field == "status":
            return Measure.Status(value).label if value else ""
        if field in ("co_units", "joint_units"):
            return "、".join(sorted(u.name for u in value))
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return "" if value is None else str(value)

    def edit(self, user, changes, version, note=""):
        """Apply a person's edit if nobody saved in between; history in the same transaction.

        `changes` maps field names to new values (model instances for relations, a set of
        units for co_units). Returns the Change rows written; raises Measure.Conflict when
        `version` is stale, leaving everything as it was.
        """
        with transaction.atomic():
            current = self.locked()
            if current.version != version:
                raise Measure.Conflict(current, list(current.changes.filter(version__gt=version)))
            now = timezone.now()
            history = []
            for field, new in changes.items():
                if field in ("co_units", "joint_units"):
                    related = getattr(current, field)
                    old = set(related.all())
                    if old != set(new):
                        related.set(new)
                        history.append((field, old, new))
                    continue
                old = getattr(current, field)
                if old != new:
                    setattr(current, field, new)
                    history.append((field, old, new))
            if not history:
                return []
            if current.assigned_at is None and (current.owner_id or current.unit_id):
                current.assigned_at = now  # pace is measured from the first assignment
            if any(field == "status" for field, _, _ in history):
                current.closed_at = now if current.status == self.Status.DONE else None
            current.version += 1
            current.staff_edited_at = now
            current.save(
                update_fields={f for f, _, _ in history if f not in ("co_units", "joint_units")}
                | {"assigned_at", "closed_at", "version", "staff_edited_at", "updated_at"}
            )
            rows = Change.objects.write(
                Change(
                    measure=current,
                    user=user,
                    created_at=now,
                    field=field,
                    old=self.display_value(field, old),
                    new=self.display_value(field, new),
                    note=note,
                    version=current.version,
                )
                for field, old, new in history
            )
            if changes.get("owner") is not None and any(f == "owner" for f, _, _ in history):
                Notification.objects.notify(
                    [current.owner],
                    Notification.Kind.ASSIGNED,
                    measure=current,
                    text=f"{user}将“{current.title}”交由您办理。",
                    actor=user,
                )
        self.take_values_of(current)
        if {"unit", "joint_units"} & changes.keys():
            # Lists read with the row before (for_ledger's joint units, lead_unit_ids).
            for name in ("joint_list", "lead_unit_ids"):
                self.__dict__.pop(name, None)
        return rows

    def take_values_of(self, fresher):
        """Become `fresher`, a copy of this row read later, without reading it again."""
        for field in self._meta.concrete_fields:
            # Setting a foreign key's id drops its cached object when the id changes.
            setattr(self, field.attname, getattr(fresher, field.attname))
        self.__dict__.pop("_prefetched_objects_cache", None)

    def record(self, user, field, old, new, note="", at=None):
        """Save a step on a measure locked by the caller, with its history line.

        `user` None is the importer: its steps bump the version but are no staff edit, so a
        later import may still update the measure.
        """
        at = at or timezone.now()
        self.version += 1
        if user is not None:
            self.staff_edited_at = at
        if field == "status":
            self.closed_at = at if new == self.Status.DONE else None
        self.save()
        return self.log(user, field, old, new, note, at=at)

    def log(self, user, field, old="", new="", note="", at=None):
        """A history line with nothing else saved (a reminder, an importer note)."""
        (entry,) = Change.objects.write(
            [
                Change(
                    measure=self,
                    user=user,
                    created_at=at or timezone.now(),
                    field=field,
                    old=self.display_value(field, old),
                    new=self.display_value(field, new),
                    note=note,
                    version=self.version,
                )
            ]
        )
        return entry

    def locked(self):
        return Measure.objects.select_for_update().get(pk=self.pk)

    def replace_unit(self, old, new, user, note):
        """Name `new` wherever this measure names `old` (a unit merge); the caller locks.

        A unit is named once: as lead before joint lead before co-unit."""
        before = self._unit_summary()
        joint = [u for u in self.joint_units.all() if u.pk != old.pk]
        co = [u for u in self.co_units.all() if u.pk != old.pk]
        if self.unit_id == old.pk:
            self.unit = new
        elif len(joint) < self.joint_units.count():
            joint.append(new)
        elif len(co) < self.co_units.count():
            co.append(new)
        joint = [u for u in dict.fromkeys(joint) if u.pk != self.unit_id]
        self.joint_units.set(joint)
        lead = {self.unit_id, *(u.pk for u in joint)}
        self.co_units.set([u for u in dict.fromkeys(co) if u.pk not in lead])
        self.__dict__.pop("lead_unit_ids", None)
        self.record(user, "unit", "；".join(before), "；".join(self._unit_summary()), note)

    @property
    def co_units_display(self):
        return "、".join(u.name for u in self.co_units.all())

    def _unit_summary(self):
        return self.lead_units_display, self.co_units_display

    def request_extension(self, user, deadline, reason, today):
        with transaction.atomic():
            current = self.locked()
            if current.is_closed:
                raise WorkflowError("已办结或暂缓的事项无需申请延期。")
            if current.deadline is None:
                raise WorkflowError("此事项尚未设定完成时限，无需申请延期。")
            if deadline <= current.deadline:
                raise WorkflowError(f"申请的新时限须晚于当前时限 {current.deadline:%Y-%m-%d}。")
            if current.extension_requests.filter(status=Decision.PENDING).exists():
                raise WorkflowError("此事项已有待审批的延期申请。")
            late = today > current.deadline
            request = ExtensionRequest.objects.create(
                measure=current,
                requested_by=user,
                current_deadline=current.deadline,
                requested_deadline=deadline,
                reason=reason,
                late=late,
            )
            label = "超期申请延期" if late else "申请延期"
            current.record(user, "extension", current.deadline, deadline, f"{label}：{reason}")
            Notification.objects.notify(
                User.objects.supervisors(),
                Notification.Kind.REQUESTED,
                measure=current,
                text=f"{user}{label}至 {deadline:%Y-%m-%d}：{reason}",
                actor=user,
            )
        self.refresh_from_db()
        return request

    def request_closure(self, user, summary, files=()):
        """Ask for 办结 with evidence; `files` are uploaded files already validated by the form."""
        with transaction.atomic():
            current = self.locked()
            if current.status in (*self.CLOSED_STATUSES, self.Status.PENDING_REVIEW):
                raise WorkflowError(f"当前状态为“{current.get_status_display()}”，不能申请办结。")
            if current.closure_requests.filter(status=ClosureRequest.Outcome.PENDING).exists():
                raise WorkflowError("此事项已有待审核的办结申请。")
            request = ClosureRequest.objects.create(
                measure=current, requested_by=user, summary=summary
            )
            for upload in files:
                Attachment.objects.create(
                    closure=request,
                    file=upload,
                    original_name=upload.name[-200:],
                    extension=upload.extension,
                    size=upload.size,
                    uploaded_by=user,
                )
            old, current.status = current.status, self.Status.PENDING_REVIEW
            current.record(user, "status", old, current.status, f"申请办结：{summary}")
            Notification.objects.notify(
                User.objects.supervisors(),
                Notification.Kind.REQUESTED,
                measure=current,
                text=f"{user}申请办结：{summary}",
                actor=user,
            )
        self.refresh_from_db()
        return request

    def close_directly(self, user, note):
        """直接销号: a supervisor closes the measure without a sign-off request."""
        if not note.strip():
            raise WorkflowError("直接销号须填写说明。")
        with transaction.atomic():
            current = self.locked()
            if current.status == self.Status.DONE:
                raise WorkflowError("此事项已办结。")
            if current.closure_requests.filter(status=ClosureRequest.Outcome.PENDING).exists():
                raise WorkflowError("此事项有待审核的办结申请，请在审核中处理。")
            old, current.status = current.status, self.Status.DONE
            current.record(user, "status", old, current.status, f"直接销号：{note}")
        self.refresh_from_db()

    def confirm_recheck(self, user, note=""):
        """回头看: the closed measure holds up; the re-check is done."""
        with transaction.atomic():
            current = self.locked()
            if current.status != self.Status.DONE or current.recheck_on is None:
                raise WorkflowError("此事项没有待进行的回头看。")
            old, current.recheck_on = current.recheck_on, None
            current.record(user, "recheck_on", old, None, f"回头看确认办结。{note}".strip())
        self.refresh_from_db()

    def reopen(self, user, reason):
        """回头看 found the problem back: the measure is open again."""
        if not reason.strip():
            raise WorkflowError("重新打开须写明理由。")
        with transaction.atomic():
            current = self.locked()
            if current.status != self.Status.DONE:
                raise WorkflowError("只有已办结的事项可以重新打开。")
            old = current.status
            current.status, current.recheck_on = self.Status.IN_PROGRESS, None
            current.record(user, "status", old, current.status, f"回头看重新打开：{reason}")
            Notification.objects.notify(
                [current.owner],
                Notification.Kind.RETURNED,
                measure=current,
                text=f"回头看发现问题，事项已重新打开：{reason}",
                actor=user,
            )
        self.refresh_from_db()

    def archive(self, user, note="督查员归档"):
        """Out of the ledger, never deleted: history, journal and edits stay."""
        with transaction.atomic():
            current = self.locked()
            current.archived_at = timezone.now()
            current.record(user, "archived", "", "已归档", note, at=current.archived_at)
        self.refresh_from_db()

    def restore(self, user, note):
        with transaction.atomic():
            current = self.locked()
            current.archived_at = None
            current.record(user, "archived", "已归档", "", note)
        self.refresh_from_db()

    def remind(self, user, note=""):
        """催办: logged on the measure; the caller mails it (tracker.reminders)."""
        if self.owner_id is None:
            raise WorkflowError(f"“{self.title}”尚未指定责任人，无法催办。")
        with transaction.atomic():
            reminder = Reminder.objects.create(
                measure=self, recipient_id=self.owner_id, sent_by=user, note=note
            )
            self.log(user, "reminder", new=str(self.owner), note=f"催办。{note}".strip())
            Notification.objects.notify(
                [self.owner],
                Notification.Kind.REMINDED,
                measure=self,
                text=f"{user}催办“{self.title}”。{note}".strip(),
                actor=user,
            )
        return reminder

    def mark_read(self, user):
        """圈阅: once per person; the history says who read it when."""
        with transaction.atomic():
            reading, created = Reading.objects.get_or_create(user=user, measure=self)
            if created:
                self.log(user, "reading", new="已阅", note="领导圈阅")
        return reading

    def instruct(self, user, text):
        return Instruction.give(user, text, measure=self)

    def report_progress(self, user, **entry):
        """Append to the journal; the first report moves a measure that had not started."""
        with transaction.atomic():
            update = ProgressUpdate.objects.create(measure=self, author=user, **entry)
            current = self.locked()
            if current.status == self.Status.NOT_STARTED:
                self.edit(
                    user, {"status": self.Status.IN_PROGRESS}, current.version, note="填报进展"
                )
            else:
                Measure.objects.filter(pk=self.pk).update(staff_edited_at=timezone.now())
            if update.instruction is not None:
                Notification.objects.notify(
                    [update.instruction.author],
                    Notification.Kind.ANSWERED,
                    measure=self,
                    text=f"{user}就您的批示报送进展：{update.progress}",
                    actor=user,
                )
        return update


class ProgressUpdate(models.Model):
    """Append-only journal: entries are never edited or deleted."""

    measure = models.ForeignKey(
        Measure, verbose_name="督办事项", on_delete=models.PROTECT, related_name="progress_updates"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="填报人", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("填报时间", default=timezone.now)
    progress = models.TextField("进展情况")
    problems = models.TextField("存在问题", blank=True)
    next_steps = models.TextField("下步计划", blank=True)
    percent = models.PositiveSmallIntegerField("完成百分比", null=True, blank=True)
    # The 批示 this report answers, if any.
    instruction = models.ForeignKey(
        "Instruction",
        verbose_name="回复批示",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="answers",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "进展"
        verbose_name_plural = "进展"
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100),
                name="progress_percent_range",
            )
        ]
        indexes = [
            # The latest report per measure (a subquery per row): newest first, ties by id.
            models.Index(fields=["measure", "-created_at", "-id"], name="progress_measure_latest")
        ]

    def __str__(self):
        return f"{self.measure} · {self.created_at:%Y-%m-%d}"


class ChangeManager(models.Manager):
    """The one writer of history: every line, from edits, workflow steps, the importer and
    reminders, is saved by one of these two methods."""

    def write(self, entries):
        """Save Change objects and return them, with their ids."""
        entries = list(entries)
        for entry in entries:
            entry.note = entry.note[:500]
        return self.bulk_create(entries) if entries else []

    def write_lines(self, lines):
        """Save lines whose ids nobody reads (an import's thousands), each a dict of the same
        Change fields by attname: in multi-row statements (tracker/bulk.py), not bulk_create,
        which builds an object per line, prepares each value through the ORM and reads every
        id back."""
        for line in lines:
            line["note"] = line["note"][:500]
        bulk.insert_rows(self.model, self.model(), lines)


class Change(models.Model):
    """One line of a measure's history: a field edit or a workflow step."""

    measure = models.ForeignKey(
        Measure, verbose_name="督办事项", on_delete=models.PROTECT, related_name="changes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="为空表示系统（导入）操作。",
    )
    created_at = models.DateTimeField("时间", default=timezone.now)
    field = models.CharField("字段", max_length=50)
    old = models.TextField("原值", blank=True)
    new = models.TextField("新值", blank=True)
    note = models.CharField("说明", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", null=True, blank=True)

    objects = ChangeManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        indexes = [models.Index(fields=["measure", "-created_at"], name="change_measure_time")]

    LABELS = {
        "created": "导入",
        "archived": "归档",
        "text": "原文",
        "extension": "延期申请",
        "reminder": "催办",
        "instruction": "领导批示",
        "reading": "圈阅",
    }

    def __str__(self):
        return f"{self.measure} · {self.field}"

    @property
    def field_label(self):
        try:
            return Measure._meta.get_field(self.field).verbose_name
        except FieldDoesNotExist:
            return self.LABELS.get(self.field, self.field)


class WorkflowError(Exception):
    """A 督办 step that is not allowed now; the message is shown to the person as it is."""


class Decision(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class RequestQuerySet(models.QuerySet):
    def pending(self):
        """Requests waiting for a supervisor, on measures still in the ledger."""
        return self.filter(status="pending", measure__archived_at__isnull=True)


class WorkflowRequest(models.Model):
    """What every 督办 request has: who asked when, and who decided when and why."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    comment = models.TextField("处理意见", blank=True)

    objects = RequestQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def settle(self, user, status, comment):
        self.status, self.decided_by, self.decided_at = status, user, timezone.now()
        self.comment = comment
        self.save()


class ExtensionRequest(WorkflowRequest):
    """延期申请: the owner asks for a later deadline; a supervisor decides."""

    measure = models.ForeignKey(
        Measure,
        verbose_name="督办事项",
        on_delete=models.PROTECT,
        related_name="extension_requests",
    )
    current_deadline = models.DateField("申请时的时限")
    requested_deadline = models.DateField("申请延至")
    reason = models.TextField("申请理由")
    late = models.BooleanField("超期申请", default=False, help_text="在原时限之后才提出的申请。")
    status = models.CharField(
        "审批状态", max_length=10, choices=Decision.choices, default=Decision.PENDING
    )

    class Meta(WorkflowRequest.Meta):
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        constraints = [
            models.UniqueConstraint(
                fields=["measure"], condition=Q(status="pending"), name="one_pending_extension"
            ),
            models.CheckConstraint(
                condition=Q(requested_deadline__gt=models.F("current_deadline")),
                name="extension_moves_deadline_later",
            ),
        ]

    def __str__(self):
        return f"{self.measure} 延至 {self.requested_deadline:%Y-%m-%d}"

    def decide(self, user, approve, comment=""):
        with transaction.atomic():
            request = ExtensionRequest.objects.select_for_update().get(pk=self.pk)
            if request.status != Decision.PENDING:
                raise WorkflowError("此延期申请已处理。")
            measure = Measure.objects.select_for_update().get(pk=request.measure_id)
            if approve and measure.deadline != request.current_deadline:
                raise WorkflowError(
                    f"申请提交后完成时限已改为 {measure.deadline:%Y-%m-%d}，"
                    "请驳回此申请，由责任人按新时限重新申请。"
                )
            request.settle(user, Decision.APPROVED if approve else Decision.REJECTED, comment)
            if approve:
                if measure.original_deadline is None:
                    measure.original_deadline = measure.deadline
                old, measure.deadline = measure.deadline, request.requested_deadline
                measure.record(
                    user, "deadline", old, measure.deadline, f"批准延期。{comment}".strip()
                )
            else:
                measure.record(
                    user,
                    "extension",
                    "",
                    f"驳回延期至 {request.requested_deadline:%Y-%m-%d}",
                    f"驳回延期申请。{comment}".strip(),
                )
            verdict = "批准" if approve else "驳回"
            Notification.objects.notify(
                [request.requested_by, measure.owner],
                Notification.Kind.DECIDED,
                measure=measure,
                text=f"延期至 {request.requested_deadline:%Y-%m-%d} 的申请已{verdict}。{comment}",
                actor=user,
            )
        self.refresh_from_db()


class ClosureRequest(WorkflowRequest):
    """办结审核: the owner asks to close with a summary and evidence; a supervisor decides."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已销号"
        RETURNED = "returned", "退回重办"

    measure = models.ForeignKey(
        Measure, verbose_name="督办事项", on_delete=models.PROTECT, related_name="closure_requests"
    )
    summary = models.TextField("办结情况")
    status = models.CharField(
        "审核状态", max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )

    class Meta(WorkflowRequest.Meta):
        verbose_name = "办结审核"
        verbose_name_plural = "办结审核"
        constraints = [
            models.UniqueConstraint(
                fields=["measure"], condition=Q(status="pending"), name="one_pending_closure"
            )
        ]

    def __str__(self):
        return f"{self.measure} · {self.get_status_display()}"

    def decide(self, user, approve, comment="", recheck_on=None):
        if not approve and not comment.strip():
            raise WorkflowError("退回重办须写明理由。")
        with transaction.atomic():
            request = ClosureRequest.objects.select_for_update().get(pk=self.pk)
            if request.status != self.Outcome.PENDING:
                raise WorkflowError("此办结申请已处理。")
            measure = Measure.objects.select_for_update().get(pk=request.measure_id)
            request.settle(
                user, self.Outcome.APPROVED if approve else self.Outcome.RETURNED, comment
            )
            old = measure.status
            if approve:
                measure.status, measure.recheck_on = Measure.Status.DONE, recheck_on
                note = f"审核通过，销号。{comment}".strip()
                if recheck_on:
                    note += f" 回头看日期 {recheck_on:%Y-%m-%d}。"
            else:
                measure.status = Measure.Status.IN_PROGRESS
                note = f"退回重办：{comment}"
            measure.record(user, "status", old, measure.status, note)
            Notification.objects.notify(
                [request.requested_by, measure.owner],
                Notification.Kind.DECIDED if approve else Notification.Kind.RETURNED,
                measure=measure,
                text=note,
                actor=user,
            )
        self.refresh_from_db()


def attachment_path(attachment, filename):
    # Stored under a random name: the uploaded name is kept only as data, never as a path.
    return f"attachments/{attachment.closure.measure_id}/{uuid.uuid4().hex}{attachment.extension}"


class Attachment(models.Model):
    # Extension → (content type served, how the file must start).
    ALLOWED = {
        ".pdf": ("application/pdf", b"%PDF"),
        ".docx": (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04",
        ),
        ".xlsx": (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"PK\x03\x04",
        ),
        ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
        ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
        ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    }

    closure = models.ForeignKey(
        ClosureRequest,
        verbose_name="办结申请",
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField("文件", upload_to=attachment_path, max_length=200)
    original_name = models.CharField("原文件名", max_length=200)
    extension = models.CharField("扩展名", max_length=10)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"

    def __str__(self):
        return self.original_name

    @property
    def content_type(self):
        return self.ALLOWED.get(self.extension, ("application/octet-stream",))[0]


class Reminder(models.Model):
    """催办: one reminder to one owner about one measure, by a supervisor or the daily digest."""

    class Kind(models.TextChoices):
        MANUAL = "manual", "督查员催办"
        DIGEST = "digest", "每日提醒"

    measure = models.ForeignKey(
        Measure, verbose_name="督办事项", on_delete=models.PROTECT, related_name="reminders"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.PROTECT, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="催办人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField("方式", max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    created_at = models.DateTimeField("时间", default=timezone.now)
    note = models.CharField("附言", max_length=500, blank=True)
    emailed = models.BooleanField("已发邮件", default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "催办记录"
        verbose_name_plural = "催办记录"

    def __str__(self):
        return f"催办 {self.measure} → {self.recipient}"


class DigestLog(models.Model):
    """One row per person per day: `send_reminders` sends each digest at most once a day."""

    class Kind(models.TextChoices):
        OWNER = "owner", "责任人提醒"
        SUPERVISOR = "supervisor", "督查员汇总"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField("日期")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    sent_at = models.DateTimeField("发送时间", default=timezone.now)
    items = models.PositiveIntegerField("事项数", default=0)

    class Meta:
        ordering = ["-day", "recipient"]
        verbose_name = "提醒发送记录"
        verbose_name_plural = "提醒发送记录"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day", "kind"], name="one_digest_per_day")
        ]

    def __str__(self):
        return f"{self.recipient} {self.day:%Y-%m-%d} {self.get_kind_display()}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def mark_read(self):
        return self.unread().update(read_at=timezone.now())


class NotificationManager(models.Manager.from_queryset(NotificationQuerySet)):
    def notify(self, recipients, kind, measure=None, text="", actor=None, unit=None):
        """The one writer of notifications. The actor is not told of their own act; each
        person gets one notice however many ways they are concerned. `unit`: a notice about
        a unit's whole list (a 批示 on it) rather than one measure."""
        people = {u.pk: u for u in recipients if u is not None and u.is_active}
        if actor is not None:
            people.pop(actor.pk, None)
        return self.write(
            Notification(user=u, kind=kind, measure=measure, unit=unit, text=text, actor=actor)
            for u in people.values()
        )

    def write(self, notices):
        """Save notices in one insert; every notice in the app is saved here."""
        notices = list(notices)
        for notice in notices:
            notice.text = notice.text[:300]
        return self.bulk_create(notices)


class Notification(models.Model):
    """An item in a person's 待办 inbox; mail is a second channel beside it."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "交办"
        REMINDED = "reminded", "催办"
        RETURNED = "returned", "退回重办"
        DECIDED = "decided", "审批结果"
        INSTRUCTION = "instruction", "领导批示"
        ANSWERED = "answered", "批示回复"
        REPORT_DUE = "report_due", "进展待报送"
        REQUESTED = "requested", "待审批申请"
        REPORT_MISSING = "report_missing", "未按时报送"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    measure = models.ForeignKey(
        Measure,
        verbose_name="督办事项",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    text = models.CharField("内容", max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    objects = NotificationManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "通知"
        verbose_name_plural = "通知"
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.text}"


class InstructionQuerySet(models.QuerySet):
    def unanswered(self):
        """批示 no progress report has answered yet."""
        return self.filter(answers__isnull=True)

    def concerning(self, measure):
        """The 批示 a measure's owner answers: on the measure, or on a unit that leads it."""
        return self.filter(Q(measure=measure) | Q(unit__in=measure.lead_unit_ids))


class Instruction(models.Model):
    """批示: a leader's written instruction on a measure or on a unit's whole list."""

    measure = models.ForeignKey(
        Measure,
        verbose_name="督办事项",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instructions",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instructions",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="批示人", on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField("批示内容")
    created_at = models.DateTimeField("批示时间", default=timezone.now)

    objects = InstructionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "领导批示"
        verbose_name_plural = "领导批示"
        constraints = [
            models.CheckConstraint(
                condition=Q(measure__isnull=False, unit__isnull=True)
                | Q(measure__isnull=True, unit__isnull=False),
                name="instruction_on_measure_or_unit",
            )
        ]

    def __str__(self):
        return f"{self.author} 批示：{self.text[:30]}"

    @classmethod
    def give(cls, author, text, *, measure=None, unit=None):
        """Write a 批示 and tell the people it concerns: the owner (or the unit's staff) and
        the supervisors."""
        text = text.strip()
        if not text:
            raise WorkflowError("批示内容不能为空。")
        with transaction.atomic():
            instruction = cls.objects.create(author=author, text=text, measure=measure, unit=unit)
            if measure is not None:
                measure.log(author, "instruction", new=text, note="领导批示")
                # No owner yet: the lead units' staff take it instead.
                concerned = (
                    [measure.owner]
                    if measure.owner_id
                    else list(User.objects.unit_staff(measure.lead_unit_ids))
                )
                where = f"“{measure.title}”"
            else:
                concerned = list(User.objects.unit_staff([unit]))
                where = f"{unit.name}的督办事项"
            Notification.objects.notify(
                [*concerned, *User.objects.supervisors()],
                Notification.Kind.INSTRUCTION,
                measure=measure,
                unit=unit,
                text=f"{author}对{where}作出批示：{text}",
                actor=author,
            )
        return instruction


class Reading(models.Model):
    """圈阅: a leader marks a measure, or a month's 通报, as read."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="阅示人", on_delete=models.CASCADE, related_name="+"
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name="督办事项",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="readings",
    )
    month = models.DateField("通报月份", null=True, blank=True, help_text="该月 1 日。")
    created_at = models.DateTimeField("圈阅时间", default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "圈阅"
        verbose_name_plural = "圈阅"
        constraints = [
            models.CheckConstraint(
                condition=Q(measure__isnull=False, month__isnull=True)
                | Q(measure__isnull=True, month__isnull=False),
                name="reading_of_measure_or_month",
            ),
            models.UniqueConstraint(
                fields=["user", "measure"],
                condition=Q(measure__isnull=False),
                name="one_reading_per_measure",
            ),
            models.UniqueConstraint(
                fields=["user", "month"],
                condition=Q(month__isnull=False),
                name="one_reading_per_month",
            ),
        ]

    def __str__(self):
        what = self.measure or f"{self.month:%Y年%m月}通报"
        return f"{self.user} 已阅 {what}"


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(Q(owner=user) | Q(shared=True))


class SavedView(models.Model):
    """A named set of ledger filters: the user's own, or shared by a supervisor."""

    name = models.CharField("名称", max_length=30)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        on_delete=models.CASCADE,
        related_name="saved_views",
    )
    shared = models.BooleanField("全员共享", default=False)
    query = models.CharField("筛选条件", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["-shared", "name", "id"]
        verbose_name = "常用视图"
        verbose_name_plural = "常用视图"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name")
        ]

    def __str__(self):
        return self.name

    def can_be_deleted_by(self, user):
        # A shared view concerns everyone: any supervisor may retire it, not only its author.
        return self.owner_id == user.pk or (self.shared and user.is_supervisor)


class DataVersion(models.Model):
    """One row whose number database triggers raise with every committed write to the tables
    pages show (tracker.freshness): a page stored at one number is current until it moves."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    epoch = models.CharField("纪元", max_length=32)
    n = models.BigIntegerField("版本", default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = "数据版本"
        verbose_name_plural = "数据版本"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="one_data_version")]

    def __str__(self):
        return f"{self.epoch}.{self.n}"
