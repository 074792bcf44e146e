from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("measures/", views.measure_list, name="measure_list"),
    path("measures/bulk/", views.measure_bulk, name="measure_bulk"),
    path("measures/export.xlsx", views.measure_export, {"fmt": "xlsx"}, name="measure_export_xlsx"),
    path("measures/export.csv", views.measure_export, {"fmt": "csv"}, name="measure_export_csv"),
    path("measures/import/", views.ledger_import, name="ledger_import"),
    path("reports/monthly/", views.report_monthly, name="report_monthly"),
    path("measures/<int:pk>/", views.measure_detail, name="measure_detail"),
    path("measures/<int:pk>/edit/", views.measure_edit, name="measure_edit"),
    path("measures/<int:pk>/row/", views.measure_row, name="measure_row"),
    path("measures/<int:pk>/text/", views.measure_text, name="measure_text"),
    path("measures/<int:pk>/progress/", views.measure_progress, name="measure_progress"),
    path("measures/<int:pk>/archive/", views.measure_archive, name="measure_archive"),
    path("measures/<int:pk>/extension/", views.extension_request, name="extension_request"),
    path("measures/<int:pk>/closure/", views.closure_request, name="closure_request"),
    path("measures/<int:pk>/recheck/", views.measure_recheck, name="measure_recheck"),
    path("measures/<int:pk>/remind/", views.measure_remind, name="measure_remind"),
    path("measures/<int:pk>/close/", views.measure_close, name="measure_close"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
    path("closures/<int:pk>/decide/", views.closure_decide, name="closure_decide"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("units/<int:pk>/remind/", views.unit_remind, name="unit_remind"),
    path("my/", views.my_measures, name="my_measures"),
    path("overdue/", views.overdue, name="overdue"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/upload/", views.document_upload, name="document_upload"),
    path("documents/import/", views.document_import, name="document_import"),
    path("documents/<int:pk>/", views.document_detail, name="document_detail"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/merge/", views.unit_merge, name="unit_merge"),
    path("units/unlock/", views.unlock_user, name="unlock_user"),
    path("admin/", admin.site.urls),
]
