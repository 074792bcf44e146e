from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone


class NameManager(models.Manager):
    def get_by_natural_key(self, name):
        return self.get(name=name)


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

    objects = NameManager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.name,)


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

    def is_responsible_for(self, measure):
        return measure.owner_id == self.pk or (
            self.unit_id is not None and measure.unit_id == self.unit_id
        )

    def editable_fields(self, measure):
        """What this person may change on a measure; checked on the server for every POST."""
        if self.is_supervisor:
            return Measure.SUPERVISOR_FIELDS
        if self.STAFF in self.role_names and self.is_responsible_for(measure):
            return Measure.STAFF_FIELDS
        return ()

    def can_report_progress(self, measure):
        return "status" in self.editable_fields(measure)


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
        ordering = ["document", "position"]
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


class MeasureQuerySet(models.QuerySet):
    def get_by_natural_key(self, source, fingerprint):
        return self.get(document__source=source, fingerprint=fingerprint)

    def active(self):
        return self.filter(archived_at__isnull=True)

    def open(self):
        return self.active().exclude(status__in=Measure.CLOSED_STATUSES)

    def overdue(self, today):
        return self.open().filter(deadline__lt=today)

    def due_soon(self, today, days=None):
        days = settings.DUE_SOON_DAYS if days is None else days
        return self.open().filter(deadline__gte=today, deadline__lte=today + timedelta(days=days))

    def done(self):
        return self.active().filter(status=Measure.Status.DONE)

    def for_ledger(self):
        """Everything a ledger row shows, in one query."""
        latest = ProgressUpdate.objects.filter(measure=OuterRef("pk")).order_by(
            "-created_at", "-id"
        )
        return self.select_related("document", "section", "unit", "owner").annotate(
            latest_progress=Subquery(latest.values("progress")[:1]),
            latest_progress_at=Subquery(latest.values("created_at")[:1]),
        )


class Measure(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "未启动"
        IN_PROGRESS = "in_progress", "推进中"
        DONE = "done", "已办结"
        SUSPENDED = "suspended", "暂缓"

    CLOSED_STATUSES = (Status.DONE, Status.SUSPENDED)
    SUPERVISOR_FIELDS = ("title", "status", "owner", "unit", "co_units", "deadline")
    STAFF_FIELDS = ("status",)

    class Conflict(Exception):
        """Somebody saved the measure after the editor loaded it."""

        def __init__(self, current, changes):
            super().__init__("version conflict")
            self.current = current
            self.changes = changes

    document = models.ForeignKey(
        Document, verbose_name="来源文件", on_delete=models.PROTECT, related_name="measures"
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
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="牵头单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_measures",
    )
    co_units = models.ManyToManyField(
        Unit, verbose_name="配合单位", blank=True, related_name="co_measures"
    )
    deadline = models.DateField("完成时限", null=True, blank=True)
    deadline_phrase = models.CharField("原文时限", max_length=50, blank=True)
    # Set by every staff edit; the importer only ever rewrites measures where this is empty.
    staff_edited_at = models.DateTimeField("人工修改时间", null=True, blank=True)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["document", "position"]
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
                condition=Q(status__in=["not_started", "in_progress", "done", "suspended"]),
                name="measure_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="measure_status_deadline"),
            models.Index(fields=["unit", "status"], name="measure_unit_status"),
            models.Index(fields=["deadline"], name="measure_deadline"),
        ]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (*self.document.natural_key(), self.fingerprint)

    natural_key.dependencies = ["tracker.document", "tracker.section"]

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
        if field == "co_units":
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
            current = Measure.objects.select_for_update().get(pk=self.pk)
            if current.version != version:
                raise Measure.Conflict(current, list(current.changes.filter(version__gt=version)))
            now = timezone.now()
            history = []
            for field, new in changes.items():
                if field == "co_units":
                    old = set(current.co_units.all())
                    if old != set(new):
                        current.co_units.set(new)
                        history.append((field, old, new))
                    continue
                old = getattr(current, field)
                if old != new:
                    setattr(current, field, new)
                    history.append((field, old, new))
            if not history:
                return []
            current.version += 1
            current.staff_edited_at = now
            current.save()
            rows = Change.objects.bulk_create(
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
        self.refresh_from_db()
        return rows

    def report_progress(self, user, **entry):
        """Append to the journal; the first report moves a measure that had not started."""
        with transaction.atomic():
            update = ProgressUpdate.objects.create(measure=self, author=user, **entry)
            current = Measure.objects.select_for_update().get(pk=self.pk)
            if current.status == self.Status.NOT_STARTED:
                self.edit(
                    user, {"status": self.Status.IN_PROGRESS}, current.version, note="填报进展"
                )
            else:
                Measure.objects.filter(pk=self.pk).update(staff_edited_at=timezone.now())
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
        indexes = [models.Index(fields=["measure", "-created_at"], name="progress_measure_time")]

    def __str__(self):
        return f"{self.measure} · {self.created_at:%Y-%m-%d}"


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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        indexes = [models.Index(fields=["measure", "-created_at"], name="change_measure_time")]

    LABELS = {"created": "导入", "archived": "归档", "text": "原文"}

    def __str__(self):
        return f"{self.measure} · {self.field}"

    @property
    def field_label(self):
        try:
            return Measure._meta.get_field(self.field).verbose_name
        except FieldDoesNotExist:
            return self.LABELS.get(self.field, self.field)
