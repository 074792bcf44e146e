from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone


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

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "单位"
        verbose_name_plural = "单位"

    def __str__(self):
        return self.name


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


class Topic(models.Model):
    name = models.CharField("名称", max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "领域"
        verbose_name_plural = "领域"

    def __str__(self):
        return self.name


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

    class Meta:
        ordering = ["source"]
        verbose_name = "文件"
        verbose_name_plural = "文件"

    def __str__(self):
        return self.title


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


class MeasureQuerySet(models.QuerySet):
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


class Measure(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "未启动"
        IN_PROGRESS = "in_progress", "推进中"
        DONE = "done", "已办结"
        SUSPENDED = "suspended", "暂缓"

    CLOSED_STATUSES = (Status.DONE, Status.SUSPENDED)

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

    @property
    def is_closed(self):
        return self.status in self.CLOSED_STATUSES

    def is_overdue(self, today):
        return not self.is_closed and self.deadline is not None and self.deadline < today


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

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "变更记录"
        verbose_name_plural = "变更记录"
        indexes = [models.Index(fields=["measure", "-created_at"], name="change_measure_time")]

    def __str__(self):
        return f"{self.measure} · {self.field}"
