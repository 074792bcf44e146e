from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import (
    Attachment,
    Change,
    ClosureRequest,
    DigestLog,
    Document,
    ExtensionRequest,
    Measure,
    ProgressUpdate,
    Reminder,
    Section,
    Topic,
    Unit,
    User,
)

admin.site.site_header = "督办台账管理"
admin.site.site_title = "督办台账"
admin.site.index_title = "数据管理"


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position"]
    list_select_related = ["parent"]
    search_fields = ["name"]


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
    extra = 0
    raw_id_fields = ["author"]


class ChangeInline(admin.TabularInline):
    model = Change
    fields = ["created_at", "user", "field", "old", "new", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["title", "document", "unit", "owner", "deadline", "status"]
    list_per_page = 100
    list_filter = ["status", "unit", "document", "topics"]
    list_select_related = ["document", "unit", "owner"]
    search_fields = ["title", "text"]
    raw_id_fields = ["section", "owner"]
    filter_horizontal = ["topics", "co_units"]
    readonly_fields = ["fingerprint", "version", "created_at", "updated_at", "staff_edited_at"]
    date_hierarchy = "deadline"
    inlines = [ProgressInline, ChangeInline]


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(admin.ModelAdmin):
    list_display = ["measure", "author", "created_at", "percent"]
    list_select_related = ["measure", "author"]
    raw_id_fields = ["measure", "author"]


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
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
