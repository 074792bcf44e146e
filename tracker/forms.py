from django import forms
from django.core.validators import MaxValueValidator

from .models import Document, Measure, ProgressUpdate, Topic, Unit, User


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user}（{user.unit}）" if user.unit_id else str(user)


def active_users():
    return User.objects.filter(is_active=True).select_related("unit").order_by("unit", "username")


class MeasureEditForm(forms.ModelForm):
    """Edits only the fields the person may change and actually submitted.

    The inline status select posts `status` alone; the edit row posts four fields; the
    detail page posts all of them. Saving goes through Measure.edit (version check + history).
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Measure
        fields = Measure.SUPERVISOR_FIELDS
        field_classes = {"owner": UserChoiceField}
        widgets = {"deadline": DateInput()}
        error_messages = {"title": {"max_length": "任务名称最多 %(limit_value)d 个字。"}}

    def __init__(self, *args, user, submitted=None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = user.editable_fields(self.instance)
        for name in Measure.SUPERVISOR_FIELDS:
            if name not in allowed or (submitted is not None and name not in submitted):
                del self.fields[name]
        if "owner" in self.fields:
            self.fields["owner"].queryset = active_users()
            self.fields["owner"].error_messages["invalid_choice"] = (
                "没有这个责任人，请从列表中选择。"
            )
        for name in ("unit", "co_units"):
            if name in self.fields:
                self.fields[name].queryset = Unit.objects.all()
        if "status" in self.fields:
            self.fields["status"].error_messages["invalid_choice"] = "不允许的状态：%(value)s。"
        if "deadline" in self.fields:
            self.fields["deadline"].error_messages["invalid"] = "日期格式应为 YYYY-MM-DD。"

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


class ProgressForm(forms.ModelForm):
    progress = forms.CharField(
        label="进展情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    problems = forms.CharField(
        label="存在问题", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_steps = forms.CharField(
        label="下步计划", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    percent = forms.IntegerField(
        label="完成百分比", min_value=0, required=False, validators=[MaxValueValidator(100)]
    )

    class Meta:
        model = ProgressUpdate
        fields = ["progress", "problems", "next_steps", "percent"]


class BulkForm(forms.Form):
    ids = forms.ModelMultipleChoiceField(
        queryset=Measure.objects.active(),
        error_messages={"required": "请先勾选要批量处理的事项。"},
    )
    owner = UserChoiceField(label="责任人", queryset=User.objects.none(), required=False)
    unit = forms.ModelChoiceField(label="牵头单位", queryset=Unit.objects.all(), required=False)
    deadline = forms.DateField(label="完成时限", required=False, widget=DateInput())
    status = forms.ChoiceField(
        label="状态", choices=[("", "（不改）"), *Measure.Status.choices], required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()

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
    ]

    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(
        label="状态", choices=[("", "全部"), *Measure.Status.choices], required=False
    )
    unit = forms.ModelChoiceField(
        label="牵头单位", queryset=Unit.objects.all(), required=False, empty_label="全部"
    )
    owner = UserChoiceField(
        label="责任人", queryset=User.objects.none(), required=False, empty_label="全部"
    )
    topic = forms.ModelChoiceField(
        label="领域", queryset=Topic.objects.all(), required=False, empty_label="全部"
    )
    document = forms.ModelChoiceField(
        label="来源文件", queryset=Document.objects.all(), required=False, empty_label="全部"
    )
    due = forms.ChoiceField(label="时限", choices=DUE_CHOICES, required=False)
    sort = forms.ChoiceField(label="排序", choices=SORT_CHOICES, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_users()
        for field in self.fields.values():
            field.error_messages["invalid_choice"] = "无效的筛选条件，已忽略。"


class UploadForm(forms.Form):
    # Empty files reach the importer, whose message names the file.
    file = forms.FileField(label="文件（.txt 或 .docx，5 MB 以内）", allow_empty_file=True)
