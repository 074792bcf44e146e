from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import redirect
from django.urls import reverse

from .models import (
    Attachment,
    Change,
    ClosureRequest,
    DataVersion,
    DigestLog,
    Document,
    ExtensionRequest,
    Instruction,
    Measure,
    Notification,
    ProgressUpdate,
    Reading,
    Reminder,
    SavedView,
    Section,
    Topic,
    Unit,
    UnitAlias,
    User,
)

admin.site.site_header = "督办台账管理"
admin.site.site_title = "督办台账"
admin.site.index_title = "数据管理"


class UnitAliasInline(admin.TabularInline):
    model = UnitAlias
    extra = 1


@admin.register(UnitAlias)
class UnitAliasAdmin(admin.ModelAdmin):
    list_display = ["name", "unit"]
    list_select_related = ["unit"]
    search_fields = ["name", "unit__name"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position", "created_from"]
    list_select_related = ["parent", "created_from"]
    list_filter = [("created_from", admin.EmptyFieldListFilter)]
    search_fields = ["name", "aliases__name"]
    raw_id_fields = ["created_from"]
    inlines = [UnitAliasInline]
    actions = ["merge"]

    @admin.action(description="合并到其他单位…")
    def merge(self, request, queryset):
        # The merge page moves measures with their history; it takes one unit at a time.
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个要合并的单位。", messages.ERROR)
            return None
        return redirect(f"{reverse('unit_list')}?source={queryset.get().pk}")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "name", "unit", "email", "is_active"]
    list_select_related = ["unit"]
    list_filter = ["groups", "unit", "is_active"]
    search_fields = ["username", "name", "email"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("单位", {"fields": ["name", "unit"]}),
    ]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["position", "kind", "path"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "organization", "source", "imported_at"]
    search_fields = ["title", "source", "organization"]
    readonly_fields = ["sha256", "imported_at", "updated_at"]
    inlines = [SectionInline]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["path", "kind", "document", "position"]
    list_filter = ["kind", "document"]
    list_select_related = ["document"]
    search_fields = ["path", "title"]
    raw_id_fields = ["parent"]


class ProgressInline(admin.TabularInline):
    model = ProgressUpdate
    fields = ["created_at", "author", "progress", "problems", "next_steps", "percent"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ChangeInline(admin.TabularInline):
    model = Change
    fields = ["created_at", "user", "field", "old", "new", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MeasureAdminForm(forms.ModelForm):
    # The version the form was opened at: a save over a newer app edit is refused.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Measure
        fields = Measure.SUPERVISOR_FIELDS  # the admin widens this to every field it shows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("loaded_version", self.instance.version)

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            current = Measure.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            if data.get("loaded_version") != current.first():
                raise forms.ValidationError(
                    "此事项在您打开后已被他人修改，本次未保存。请重新打开后再修改。"
                )
        return data


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    form = MeasureAdminForm
    list_display = ["title", "document", "unit", "owner", "deadline", "status"]
    list_per_page = 100
    list_filter = ["status", "unit", "document", "topics"]
    list_select_related = ["document", "unit", "owner"]
    search_fields = ["title", "text"]
    raw_id_fields = ["section", "owner"]
    filter_horizontal = ["topics", "joint_units", "co_units"]
    readonly_fields = ["fingerprint", "version", "created_at", "updated_at", "staff_edited_at"]
    date_hierarchy = "deadline"
    inlines = [ProgressInline, ChangeInline]

    def save_model(self, request, obj, form, change):
        """Ledger fields go through Measure.edit, so the admin bumps the version and writes
        history like every other edit; the importer-owned fields are saved as they are."""
        if not change:
            return super().save_model(request, obj, form, change)
        ledger = {
            f: form.cleaned_data[f] for f in form.changed_data if f in Measure.SUPERVISOR_FIELDS
        }
        other = {
            f: form.cleaned_data[f]
            for f in form.changed_data
            if f not in Measure.SUPERVISOR_FIELDS and f not in ("topics", "loaded_version")
        }
        if other:
            Measure.objects.filter(pk=obj.pk).update(**other)
        if ledger:
            try:
                obj.edit(request.user, ledger, form.cleaned_data["loaded_version"], note="后台修改")
            except Measure.Conflict:
                self.message_user(request, "此事项刚被他人修改，本次未保存。", messages.ERROR)

    def save_related(self, request, form, formsets, change):
        # Many-to-many ledger fields went through Measure.edit in save_model.
        if not change:
            super().save_related(request, form, formsets, change)
        else:
            if "topics" in form.changed_data:
                form.instance.topics.set(form.cleaned_data["topics"])
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Journals and history are append-only records: looked at here, never changed."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReadOnlyAdmin):
    list_display = ["measure", "author", "created_at", "percent"]
    list_select_related = ["measure", "author"]
    raw_id_fields = ["measure", "author"]


@admin.register(Change)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["measure", "field", "old", "new", "user", "created_at"]
    list_select_related = ["measure", "user"]
    list_filter = ["field"]
    raw_id_fields = ["measure", "user"]


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = [
        "measure",
        "requested_by",
        "current_deadline",
        "requested_deadline",
        "late",
        "status",
    ]
    list_filter = ["status", "late"]
    list_select_related = ["measure", "requested_by"]
    raw_id_fields = ["measure", "requested_by", "decided_by"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ["original_name", "size", "uploaded_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ClosureRequest)
class ClosureRequestAdmin(admin.ModelAdmin):
    list_display = ["measure", "requested_by", "created_at", "status", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["measure", "requested_by", "decided_by"]
    raw_id_fields = ["measure", "requested_by", "decided_by"]
    inlines = [AttachmentInline]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["measure", "recipient", "sent_by", "kind", "created_at", "emailed"]
    list_filter = ["kind", "emailed"]
    list_select_related = ["measure", "recipient", "sent_by"]
    raw_id_fields = ["measure", "recipient", "sent_by"]


@admin.register(DigestLog)
class DigestLogAdmin(admin.ModelAdmin):
    list_display = ["recipient", "day", "kind", "items", "sent_at"]
    list_filter = ["kind", "day"]
    list_select_related = ["recipient"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "closure", "size", "uploaded_by", "created_at"]
    list_select_related = ["closure__measure", "uploaded_by"]
    raw_id_fields = ["closure", "uploaded_by"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "text", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]


@admin.register(Instruction)
class InstructionAdmin(ReadOnlyAdmin):
    list_display = ["author", "measure", "unit", "text", "created_at"]
    list_select_related = ["author", "measure", "unit"]


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = ["user", "measure", "month", "created_at"]
    list_select_related = ["user", "measure"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "query", "created_at"]
    list_filter = ["shared"]
    list_select_related = ["owner"]


@admin.register(DataVersion)
class DataVersionAdmin(ReadOnlyAdmin):
    list_display = ["epoch", "n"]
