import functools
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Count, Model
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils import timezone
from django.utils.encoding import uri_to_iri
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from .lights import Light
from .models import (
    Attachment,
    Document,
    Instruction,
    Measure,
    ProgressUpdate,
    SavedView,
    Topic,
    Unit,
    User,
)
from .pipeline.read import xml_safe


class CleanTextMixin:
    """Characters XML forbids (\x0b, \x01…) never enter the database: one would break every
    Excel export that later carries the text."""

    def _clean_fields(self):
        super()._clean_fields()
        for name, value in self.cleaned_data.items():
            if isinstance(value, str):
                self.cleaned_data[name] = xml_safe(value)


def small_ids(values):
    """Ids as the database can hold them; anything else is not a choice (never a 500)."""
    values = values if isinstance(values, list | tuple) else [values]
    return all(str(v).isdigit() and int(v) < 2**31 for v in values if v not in ("", None))


class BoundedModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if not small_ids(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        if not small_ids(list(value)):
            raise forms.ValidationError("选择的单位无效。", code="invalid_choice")
        return super()._check_values(value)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class QuickSelect(forms.Select):
    """A select drawn in Python: the ledger shows several lists of every user and unit, and
    Django's per-option widget templates cost more than the hundred rows beneath them."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (str(key), mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return format_html("<select{}>{}</select>", flatatt(final), options)


class UserChoiceField(BoundedModelChoiceField):
    def label_from_instance(self, user):
        return f"{user}（{user.unit}）" if user.unit_id else str(user)


def active_users():
    return User.objects.filter(is_active=True).select_related("unit").order_by("unit", "username")


def assignable_users():
    # A leader reads and instructs; offering one as 责任人 would hand them a task they never see.
    return User.objects.assignable().select_related("unit").order_by("unit", "username")


class MeasureEditForm(CleanTextMixin, forms.ModelForm):
    """Edits only the fields the person may change and actually submitted.

    The inline status select posts `status` alone; the edit row posts four fields; the
    detail page posts all of them. Saving goes through Measure.edit (version check + history).
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Measure
        fields = Measure.SUPERVISOR_FIELDS
        field_classes = {
            "owner": UserChoiceField,
            "unit": BoundedModelChoiceField,
            "joint_units": BoundedModelMultipleChoiceField,
            "co_units": BoundedModelMultipleChoiceField,
        }
        widgets = {"deadline": DateInput(), "recheck_on": DateInput()}
        error_messages = {"title": {"max_length": "任务名称最多 %(limit_value)d 个字。"}}

    @classmethod
    @functools.cache
    def limited_to(cls, names):
        """The form for these fields only: it reads nothing else of the measure (a status
        change does not load its units)."""
        fields = [name for name in Measure.SUPERVISOR_FIELDS if name in names]
        return forms.modelform_factory(Measure, form=cls, fields=fields)

    def __init__(self, *args, user, submitted=None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = user.editable_fields(self.instance)
        for name in Measure.SUPERVISOR_FIELDS:
            if name not in self.fields:
                continue
            if name not in allowed or (submitted is not None and name not in submitted):
                del self.fields[name]
        if "owner" in self.fields:
            self.fields["owner"].queryset = assignable_users()
            self.fields["owner"].error_messages["invalid_choice"] = (
                "没有这个责任人，请从列表中选择。"
            )
        for name in ("unit", "joint_units", "co_units"):
            if name in self.fields:
                self.fields[name].queryset = Unit.objects.all()
        if "status" in self.fields:
            # The current status stays listed so the select shows it; choosing it changes nothing.
            allowed = set(user.allowed_statuses(self.instance)) | {self.instance.status}
            self.fields["status"].choices = [c for c in Measure.Status.choices if c[0] in allowed]
            self.fields["status"].error_messages["invalid_choice"] = "不允许的状态：%(value)s。"
        for name in ("deadline", "recheck_on"):
            if name in self.fields:
                self.fields[name].error_messages["invalid"] = "日期格式应为 YYYY-MM-DD。"

    def clean(self):
        data = super().clean()
        if "report_cadence" in self.fields and "report_day" in self.fields:
            cadence, day = data.get("report_cadence"), data.get("report_day")
            if not cadence:
                data["report_day"] = None
            elif day is None:
                self.add_error("report_day", "请填写报送日。")
            elif cadence == Measure.Cadence.WEEKLY and not 1 <= day <= 7:
                self.add_error("report_day", "每周报送日应为星期一至星期日（1–7）。")
            elif not 1 <= day <= 28:
                self.add_error("report_day", "每月/每季度报送日应为 1–28 号。")
        return data

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


class ProgressForm(CleanTextMixin, forms.ModelForm):
    progress = forms.CharField(
        label="进展情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    problems = forms.CharField(
        label="存在问题", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_steps = forms.CharField(
        label="下步计划", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # min_value/max_value also give the number input its min and max, so a phone keypad and
    # the browser refuse 150 before the server has to.
    percent = forms.IntegerField(label="完成百分比", min_value=0, max_value=100, required=False)

    instruction = forms.ModelChoiceField(
        label="回复批示",
        queryset=Instruction.objects.none(),
        required=False,
        empty_label="（不针对批示）",
    )

    class Meta:
        model = ProgressUpdate
        fields = ["progress", "problems", "next_steps", "percent", "instruction"]

    def __init__(self, *args, measure=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A report answers a 批示 on this measure or on the unit that leads it.
        if measure is None:
            del self.fields["instruction"]
            return
        instructions = Instruction.objects.concerning(measure).select_related("author")
        # One read decides whether to offer the field and which 批示 to preselect.
        answered = dict(instructions.annotate(n=Count("answers")).values_list("pk", "n"))
        if not answered:
            del self.fields["instruction"]
            return
        self.fields["instruction"].queryset = instructions
        self.fields["instruction"].label_from_instance = lambda i: (
            f"{i.author} {timezone.localdate(i.created_at):%Y-%m-%d}：{i.text[:30]}"
        )
        unanswered = [pk for pk, n in answered.items() if not n]
        if unanswered and not self.is_bound:
            self.initial["instruction"] = unanswered[0]  # the newest: Instruction's ordering


class InstructionForm(CleanTextMixin, forms.Form):
    text = forms.CharField(
        label="批示内容",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写批示内容。"},
    )


class RowVersionsField(forms.Field):
    """Ticked rows as "id:version": each row carries the version its page showed."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "请先勾选要批量处理的事项。",
        "invalid": "勾选的事项无效，请刷新页面后重试。",
    }

    def to_python(self, value):
        if not value:
            return []
        pairs = {}
        for token in value if isinstance(value, list | tuple) else [value]:
            pk, _, version = str(token).partition(":")
            if not small_ids([pk, version]) or not version:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            pairs[int(pk)] = int(version)
        found = Measure.objects.active().in_bulk(pairs)
        if len(found) != len(pairs):
            raise forms.ValidationError("部分勾选的事项已不存在，请刷新页面后重试。")
        return [(found[pk], version) for pk, version in pairs.items()]


class BulkForm(forms.Form):
    ids = RowVersionsField(label="勾选事项")
    owner = UserChoiceField(
        widget=QuickSelect, label="责任人", queryset=User.objects.none(), required=False
    )
    unit = BoundedModelChoiceField(
        widget=QuickSelect, label="牵头单位", queryset=Unit.objects.all(), required=False
    )
    deadline = forms.DateField(label="完成时限", required=False, widget=DateInput())
    # 待审核 is reached only by asking for sign-off, 已办结 by sign-off or 直接销号 with a note.
    status = forms.ChoiceField(
        widget=QuickSelect,
        label="状态",
        choices=[("", "（不改）")]
        + [
            c
            for c in Measure.Status.choices
            if c[0] not in (Measure.Status.PENDING_REVIEW, Measure.Status.DONE)
        ],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_users()

    def clean(self):
        data = super().clean()
        if not self.changes():
            raise forms.ValidationError(
                "请至少选择一项要修改的内容（责任人、牵头单位、时限或状态）。"
            )
        return data

    def changes(self):
        return {
            name: self.cleaned_data[name]
            for name in ("owner", "unit", "deadline", "status")
            if self.cleaned_data.get(name)
        }


class FilterForm(forms.Form):
    DUE_CHOICES = [("", "全部"), ("overdue", "已逾期"), ("soon", "7日内到期")]
    SORT_CHOICES = [
        ("", "默认顺序"),
        ("deadline", "时限由近到远"),
        ("-deadline", "时限由远到近"),
        ("status", "状态"),
        ("unit", "牵头单位"),
        ("light", "亮灯（最紧急在前）"),
    ]

    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(
        widget=QuickSelect,
        label="状态",
        choices=[("", "全部"), *Measure.Status.choices],
        required=False,
    )
    unit = BoundedModelChoiceField(
        widget=QuickSelect,
        label="牵头单位",
        queryset=Unit.objects.all(),
        required=False,
        empty_label="全部",
    )
    owner = UserChoiceField(
        widget=QuickSelect,
        label="责任人",
        queryset=User.objects.none(),
        required=False,
        empty_label="全部",
    )
    topic = BoundedModelChoiceField(
        widget=QuickSelect,
        label="领域",
        queryset=Topic.objects.all(),
        required=False,
        empty_label="全部",
    )
    document = BoundedModelChoiceField(
        widget=QuickSelect,
        label="来源文件",
        queryset=Document.objects.all(),
        required=False,
        empty_label="全部",
    )
    due = forms.ChoiceField(widget=QuickSelect, label="时限", choices=DUE_CHOICES, required=False)
    assigned = forms.ChoiceField(
        widget=QuickSelect,
        label="交办",
        choices=[("", "全部"), ("no", "待交办（在办）"), ("yes", "已交办（在办）")],
        required=False,
    )
    light = forms.ChoiceField(
        widget=QuickSelect, label="亮灯", choices=[("", "全部"), *Light.choices], required=False
    )
    sort = forms.ChoiceField(widget=QuickSelect, label="排序", choices=SORT_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "无效的筛选条件，已忽略。"

    def active_filters(self):
        """(field label, chosen value) of each filter applied, in form order.

        Invalid filters are left out, as filtered_measures leaves them out; the sort order is
        no filter. Choices show their labels (红灯, 推进中), units and people their names.
        """
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        filters = []
        for name, field in self.fields.items():
            value = data.get(name)
            if name == "sort" or value in (None, ""):
                continue
            if isinstance(value, Model):
                shown = str(value)
            elif isinstance(value, str) and name == "q":
                shown = value.strip()
            else:
                shown = str(dict(field.choices).get(value, value))
            if shown:
                filters.append((str(field.label), shown))
        return filters

    def labels(self):
        """The active filters as people read them, e.g. ["亮灯：红灯", "交办：待交办"]."""
        return [f"{label}：{value}" for label, value in self.active_filters()]


class WorkflowForm(CleanTextMixin, forms.Form):
    """Workflow forms share the detail page with the edit form: keep their ids apart."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{type(self).__name__.lower()}_%s")
        super().__init__(*args, **kwargs)


class ExtensionForm(WorkflowForm):
    deadline = forms.DateField(
        label="申请延至",
        widget=DateInput(),
        error_messages={"invalid": "日期格式应为 YYYY-MM-DD。", "required": "请填写新的完成时限。"},
    )
    reason = forms.CharField(
        label="申请理由",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请写明延期理由。"},
    )


class DecisionForm(WorkflowForm):
    # Required: a missing or unknown decision is an error, never a default.
    decision = forms.ChoiceField(
        choices=[("approve", "批准"), ("reject", "驳回")],
        widget=forms.HiddenInput,
        error_messages={"required": "请选择批准或驳回。", "invalid_choice": "无效的审批决定。"},
    )
    comment = forms.CharField(
        label="意见", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    recheck_on = forms.DateField(
        label="回头看日期（可选）",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"},
    )


class RecheckForm(WorkflowForm):
    decision = forms.ChoiceField(
        choices=[("confirm", "确认办结"), ("reopen", "重新打开")],
        widget=forms.HiddenInput,
        error_messages={"required": "请选择确认办结或重新打开。", "invalid_choice": "无效的决定。"},
    )
    comment = forms.CharField(
        label="说明", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(WorkflowForm):
    """直接销号: a supervisor closes without a sign-off request, and says why."""

    note = forms.CharField(
        label="销号说明",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "直接销号须填写说明。"},
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files at once, each checked for type (by name and by content) and size."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ",".join(Attachment.ALLOWED)})
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if len(files) > settings.ATTACHMENTS_PER_REQUEST:
            raise forms.ValidationError(f"一次最多上传 {settings.ATTACHMENTS_PER_REQUEST} 个文件。")
        return [self.check(upload) for upload in files]

    def check(self, upload):
        name = safe_filename(upload.name)
        extension = Path(name).suffix.lower()
        if extension not in Attachment.ALLOWED:
            raise forms.ValidationError(f"“{name}”的类型不允许：只接受 pdf、docx、xlsx、jpg、png。")
        if upload.size == 0:
            raise forms.ValidationError(f"“{name}”是空文件。")
        if upload.size > settings.ATTACHMENT_MAX_BYTES:
            limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"“{name}”超过 {limit} MB。")
        head = upload.read(8)
        upload.seek(0)
        if not head.startswith(Attachment.ALLOWED[extension][1]):
            raise forms.ValidationError(f"“{name}”的内容与扩展名不符。")
        upload.name, upload.extension = name, extension
        return upload


def safe_filename(name):
    """Keep a readable (Chinese) name, without paths, control characters or odd dots."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.strip(" .") or "附件"
    stem, dot, extension = name.rpartition(".")
    return (stem[:150] + dot + extension[:10]) if dot else name[:160]


class ClosureForm(WorkflowForm):
    summary = forms.CharField(
        label="办结情况",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写办结情况。"},
    )
    files = EvidenceField(label="佐证材料（pdf、docx、xlsx、jpg、png）", required=False)
    # On a phone this opens the camera: a photo of the finished work is the commonest evidence.
    # It passes the same checks as any other file, so a photo in a format we refuse is refused.
    photo = EvidenceField(
        label="现场照片（手机可直接拍照）",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def clean(self):
        data = super().clean()
        # One list of evidence whichever picker it came from; the limit counts both.
        files = data.get("files", []) + data.pop("photo", [])
        if len(files) > settings.ATTACHMENTS_PER_REQUEST:
            self.add_error("photo", f"一次最多上传 {settings.ATTACHMENTS_PER_REQUEST} 个文件。")
        data["files"] = files
        return data


class ReminderForm(CleanTextMixin, forms.Form):
    note = forms.CharField(label="附言", max_length=500, required=False)


class SheetUploadForm(forms.Form):
    file = forms.FileField(label="台账 Excel 文件（.xlsx）")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() != ".xlsx":
            raise forms.ValidationError("请上传由本系统导出的 .xlsx 文件。")
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError("文件超过 5 MB，请只保留台账工作表后重试。")
        return upload


class UploadForm(forms.Form):
    # Empty files reach the importer, whose message names the file.
    file = forms.FileField(
        label="导入新文件（.txt、.docx 或 .xlsx，5 MB 以内；同名文件视为该文件的新版本，人工修改不会被覆盖）",
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.docx,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = Path(upload.name).name
        # Checked before anything is stored or parsed.
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"{name}: 文件超过 5 MB / file larger than 5 MB")
        if Path(name).suffix.lower() not in (".txt", ".docx", ".xlsx"):
            raise forms.ValidationError(f"{name}: 只能导入 .txt、.docx 或 .xlsx 文件")
        return upload


class ImportConfirmForm(forms.Form):
    token = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)


class UnitMergeForm(forms.Form):
    source = forms.ModelChoiceField(
        label="将单位",
        queryset=Unit.objects.all(),
        error_messages={"required": "请选择要合并的单位。"},
    )
    target = forms.ModelChoiceField(
        label="合并到",
        queryset=Unit.objects.all(),
        error_messages={"required": "请选择合并到的单位。"},
    )

    def clean(self):
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("target"):
            raise forms.ValidationError("不能把单位合并到它自己。")
        return data


class UnlockForm(forms.Form):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        error_messages={"required": "请填写要解除锁定的用户名。"},
    )


class SavedViewForm(CleanTextMixin, forms.ModelForm):
    """保存当前筛选 as a named tab. The query is kept in one canonical spelling, so the tab of
    the filters on screen is found by comparing two strings."""

    SHARE_ERROR = "只有督查员可以设置全员共享的视图。"

    # Unbounded as posted: the length that counts is the canonical one (clean_query).
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = SavedView
        fields = ["name", "shared", "query"]
        error_messages = {
            "name": {
                "required": "请填写视图名称。",
                "max_length": "视图名称最多 %(limit_value)d 个字。",
            }
        }

    def __init__(self, *args, owner, **kwargs):
        kwargs.setdefault("auto_id", "view_%s")  # apart from the filters' id_… on the same page
        super().__init__(*args, **kwargs)
        self.instance.owner = owner
        self.fields["name"].widget.attrs.update(placeholder="视图名称", autocomplete="off")
        # The ledger refreshes this one input (hx-swap-oob) whenever the filters change.
        self.fields["query"].widget.attrs["id"] = "view-save-query"

    @staticmethod
    def canonical(data):
        """The ledger filters in `data` (request.GET or a parsed query) as a query string:
        FilterForm's fields in its order, empty ones and the page number left out. Chinese
        stays readable, so a search of 100 characters still fits the 500 the column holds."""
        pairs = []
        for name in FilterForm.base_fields:
            values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
            value = (values[-1] if values else None) or ""
            if value.strip():
                pairs.append((name, value.strip()))
        return uri_to_iri(urlencode(pairs))

    def clean_name(self):
        name = self.cleaned_data["name"]
        if SavedView.objects.filter(owner=self.instance.owner, name=name).exists():
            raise forms.ValidationError(f"您已有名为“{name}”的视图，请换一个名称。")
        return name

    def clean_shared(self):
        shared = self.cleaned_data["shared"]
        # Checked here, not by hiding the box: a crafted POST must not share a view either.
        if shared and not self.instance.owner.is_supervisor:
            raise forms.ValidationError(self.SHARE_ERROR)
        return shared

    def clean_query(self):
        query = self.canonical(QueryDict(self.cleaned_data["query"]))
        if len(query) > SavedView._meta.get_field("query").max_length:
            raise forms.ValidationError("筛选条件过长，无法保存为视图。")
        return query
