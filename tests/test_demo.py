"""fixtures/demo.json must match what the importer makes of seeds/ (make run loads both)."""

from io import StringIO

import pytest
from django.core.management import call_command

from tracker.models import Document, Measure, ProgressUpdate, User

from .conftest import SEEDS, TODAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_measures", str(SEEDS), stdout=StringIO())
    before = Measure.objects.count()
    call_command("loaddata", "demo", verbosity=0)
    return before


def test_demo_fixture_matches_the_imported_seeds(demo):
    assert Measure.objects.count() == demo
    assert Document.objects.count() == 2
    out = StringIO()
    call_command("seed_measures", str(SEEDS), stdout=out)
    assert "未变化" in out.getvalue() and "新建 0" in out.getvalue()


def test_demo_bureau_makes_the_dashboard_meaningful(demo):
    measures = Measure.objects.active()
    assert measures.overdue(TODAY).count() >= 3
    assert measures.due_soon(TODAY).count() >= 2
    assert measures.done().count() >= 2
    assert measures.filter(owner__isnull=True).exists()
    assert ProgressUpdate.objects.count() >= 10
    assert 8 <= User.objects.exclude(unit=None).values("unit").distinct().count() <= 11
    roles = set(User.objects.values_list("groups__name", flat=True))
    assert roles == {"督查员", "责任人", "领导"}


def test_demo_accounts_use_the_documented_password(demo):
    assert User.objects.get(username="ducha").check_password("demo2026")
