"""Every model is in the admin, with Chinese names, and its pages render."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tracker.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, measure):
    user = User.objects.create_superuser("root", password="pw-root-12345")
    client.force_login(user)
    return client


def test_every_tracker_model_is_registered_with_a_chinese_name():
    from django.apps import apps

    for model in apps.get_app_config("tracker").get_models():
        assert model in admin.site._registry, model
        assert not model._meta.verbose_name.isascii(), model


def test_admin_changelists_and_change_pages_render(admin_client, measure):
    for model in admin.site._registry:
        if model._meta.app_label != "tracker":
            continue
        name = f"admin:tracker_{model._meta.model_name}"
        assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200, model
    url = reverse("admin:tracker_measure_change", args=[measure.pk])
    assert "健全低保动态管理机制" in admin_client.get(url).content.decode()


def test_admin_edits_go_through_history_and_versioning(admin_client, measure, units):
    url = reverse("admin:tracker_measure_change", args=[measure.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "title": measure.title,
            "text": measure.text,
            "unit": units["care"].pk,
            "owner": measure.owner_id,
            "deadline": "2027-01-31",
            "co_units": [],
            "topics": [],
            "progress_updates-TOTAL_FORMS": 0,
            "progress_updates-INITIAL_FORMS": 0,
            "changes-TOTAL_FORMS": 0,
            "changes-INITIAL_FORMS": 0,
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    measure.refresh_from_db()
    assert (measure.unit, measure.version) == (units["care"], 2)
    assert set(measure.changes.values_list("field", flat=True)) == {"unit", "deadline"}
    assert measure.changes.first().note == "后台修改"


def test_journal_and_history_are_read_only_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:tracker_change_add")).status_code == 403
    assert admin_client.get(reverse("admin:tracker_progressupdate_add")).status_code == 403
