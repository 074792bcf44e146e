"""fixtures/demo.json must match what the importer makes of seeds/ (make run loads both)."""

from datetime import datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from tracker.models import (
    Change,
    ClosureRequest,
    Document,
    ExtensionRequest,
    Instruction,
    Measure,
    Notification,
    ProgressUpdate,
    Reading,
    Reminder,
    User,
)

from .conftest import SEEDS, TODAY

# As `make run` does it, on an empty database: the fixture's history lines overwrite the
# import's by primary key, and PostgreSQL sequences survive a rolled-back test.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)


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


# Status moves the app can make, as the history writes them (labels). 已办结 is reached only
# from 待审核 (a sign-off) or by 直接销号, which says so in its note.
LEGAL_MOVES = {
    ("未启动", "推进中"),
    ("推进中", "未启动"),
    ("推进中", "待审核"),
    ("待审核", "已办结"),
    ("待审核", "推进中"),
    ("已办结", "推进中"),
    ("未启动", "暂缓"),
    ("推进中", "暂缓"),
    ("暂缓", "未启动"),
    ("暂缓", "推进中"),
}


def history_problems(measure, end):
    """Why this measure's history could not have happened, as readable lines (none: fine)."""
    problems = []
    changes = sorted(measure.changes.all(), key=lambda c: (c.created_at, c.pk))
    imported = changes[0].created_at
    if changes[0].field != "created" or [c.field for c in changes].count("created") != 1:
        problems.append(f"first entry is {changes[0].field!r} at {imported}, not the import")
    if imported < measure.document.imported_at:
        problems.append(
            f"imported {imported}, before its document ({measure.document.imported_at})"
        )

    dated = [(f"change {c.field}", c.created_at) for c in changes]
    dated += [("progress", p.created_at) for p in measure.progress_updates.all()]
    for request in [*measure.extension_requests.all(), *measure.closure_requests.all()]:
        dated.append((f"{request._meta.model_name} made", request.created_at))
        if request.decided_at:
            dated.append((f"{request._meta.model_name} decided", request.decided_at))
            if request.decided_at < request.created_at:
                problems.append(f"{request._meta.model_name} decided before it was made")
    dated += [("reminder", r.created_at) for r in Reminder.objects.filter(measure=measure)]
    dated += [("instruction", i.created_at) for i in Instruction.objects.filter(measure=measure)]
    dated += [("reading", r.created_at) for r in Reading.objects.filter(measure=measure)]
    for n in Notification.objects.filter(measure=measure):
        dated += [("notification", n.created_at), ("notification read", n.read_at or n.created_at)]
        if n.read_at and n.read_at < n.created_at:
            problems.append("notification read before it was sent")
    problems += [f"{what} at {when}, after TODAY" for what, when in dated if when >= end]
    problems += [f"{what} at {when}, before the import" for what, when in dated if when < imported]

    assignments = [c.created_at for c in changes if c.field in ("owner", "unit")]
    if (measure.owner_id or measure.unit_id) and measure.assigned_at is None:
        problems.append("has an owner or unit but no assigned_at")
    if measure.assigned_at is not None:
        # Assigned by the document itself (the import) or by the first owner/unit edit.
        if measure.assigned_at not in {imported, *assignments[:1]}:
            problems.append(f"assigned_at {measure.assigned_at} is no assignment in its history")
        for update in measure.progress_updates.all():
            if update.created_at < measure.assigned_at:
                problems.append(f"progress at {update.created_at}, before the assignment")
    for update in measure.progress_updates.exclude(instruction=None):
        if update.created_at < update.instruction.created_at:
            problems.append("a report answers a 批示 given after it")

    status, closed_at = "未启动", None
    for change in (c for c in changes if c.field == "status"):
        move = (change.old, change.new)
        direct = change.new == "已办结" and change.note.startswith("直接销号")
        if change.old != status or not (move in LEGAL_MOVES or direct):
            problems.append(f"status {change.old} → {change.new} while {status}")
        status = change.new
        closed_at = change.created_at if status == "已办结" else None
    if status != measure.get_status_display():
        problems.append(f"history ends {status}, the measure is {measure.get_status_display()}")
    if measure.closed_at != closed_at:
        problems.append(f"closed_at {measure.closed_at}, history says {closed_at}")

    versions = [c.version for c in changes if c.version is not None]
    if versions != sorted(versions) or measure.version != max(versions, default=1):
        problems.append(f"versions {versions} along history, measure at {measure.version}")
    return [f"{measure.title}: {p}" for p in problems]


def test_demo_history_is_a_possible_history(demo):
    """Each measure's history reads as the app would have written it, up to the demo's TODAY."""
    end = timezone.make_aware(datetime.combine(TODAY + timedelta(days=1), time()))
    measures = Measure.objects.select_related("document").order_by("document", "position")
    problems = [p for m in measures for p in history_problems(m, end)]
    assert problems == []
    later = [
        model.__name__
        for model, field in [
            (Change, "created_at"),
            (ProgressUpdate, "created_at"),
            (ExtensionRequest, "decided_at"),
            (ClosureRequest, "decided_at"),
            (Instruction, "created_at"),
            (Reading, "created_at"),
            (Notification, "read_at"),
        ]
        if model.objects.filter(**{f"{field}__gte": end}).exists()
    ]
    assert later == []


def test_demo_leader_and_inboxes_have_something_to_show(demo):
    lingdao = User.objects.get(username="lingdao")
    instructions = Instruction.objects.filter(author=lingdao, measure__isnull=False)
    assert instructions.filter(answers__isnull=False).exists()
    assert instructions.unanswered().exists()
    assert Reading.objects.filter(user=lingdao, measure__isnull=False).count() >= 2
    for username in ("zhangmin", "ducha"):
        assert Notification.objects.unread().filter(user__username=username).exists()
    assert Measure.objects.active().filter(owner__isnull=True).count() >= 3
