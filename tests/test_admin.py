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
