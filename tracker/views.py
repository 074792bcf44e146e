import secrets
import shutil
import time
from collections import Counter
from datetime import date
from functools import wraps
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from . import calendars, lights, reminders, reports, spreadsheets
from .forms import (
    BulkForm,
    CloseForm,
    ClosureForm,
    DecisionForm,
    ExtensionForm,
    FilterForm,
    ImportConfirmForm,
    InstructionForm,
    MeasureEditForm,
    ProgressForm,
    RecheckForm,
    ReminderForm,
    SavedViewForm,
    SheetUploadForm,
    UnitMergeForm,
    UnlockForm,
    UploadForm,
)
from .importing import import_file
from .lights import Light, light_of
from .models import (
    Attachment,
    ClosureRequest,
    Document,
    ExtensionRequest,
    Instruction,
    Measure,
    Reading,
    SavedView,
    Topic,
    Unit,
    User,
    WorkflowError,
    report_missing_q,
)

# htmx events announced by responses; parts of pages listen with hx-trigger="… from:body".
MEASURE_UPDATED = "measureUpdated"  # any change: dashboard counts, history
FIELDS_EDITED = "fieldsEdited"  # the edit form saved: the workflow panel reloads
WORKFLOW_CHANGED = "workflowChanged"  # a 督办 step: the edit form reloads (new version)
PROGRESS_ADDED = "progressAdded"  # a report: both reload (status and version may move)
LEDGER_CHANGED = "ledgerChanged"  # many rows at once: the ledger table reloads


def role_required(allowed, message):
    """A view decorator: refuse (403, with `message`) anyone `allowed(user)` turns down."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


supervisor_required = role_required(lambda user: user.is_supervisor, "只有督查员可以执行此操作。")
leader_required = role_required(lambda user: user.is_leader, "只有领导可以作出批示或圈阅。")


def flash_errors(request, form):
    """A form's errors as messages, for the no-JS path that redirects instead of re-rendering."""
    for errors in form.errors.values():
        messages.error(request, "；".join(errors))


def is_fragment_request(request):
    # A history restore after a cache miss needs the whole page, not a fragment.
    return request.htmx and not request.htmx.history_restore_request


def safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_GET
@login_required
def home(request):
    user = request.user
    return redirect("overdue" if user.is_supervisor or user.is_leader else "my_measures")


# The ledger -------------------------------------------------------------------------


def filtered_measures(form, today):
    measures = Measure.objects.active().for_ledger()
    form.is_valid()  # invalid filters are shown as errors and left out; the valid ones apply
    data = form.cleaned_data
    if q := data.get("q", "").strip():
        measures = measures.filter(Q(title__icontains=q) | Q(text__icontains=q))
    for name in ("status", "owner", "document"):
        if data.get(name):
            measures = measures.filter(**{name: data[name]})
    if data.get("unit"):
        measures = measures.for_unit(data["unit"])
    if data.get("topic"):
        measures = measures.filter(topics=data["topic"])
    if data.get("due") == "overdue":
        measures = measures.overdue(today)
    elif data.get("due") == "soon":
        measures = measures.due_soon(today)
    if data.get("assigned") == "no":
        measures = measures.unassigned()
    elif data.get("assigned") == "yes":
        measures = measures.assigned()
    if data.get("light") or data.get("sort") == "light":
        measures = measures.with_light(today)
    if data.get("light"):
        measures = measures.filter(light=data["light"])
        if data["light"] == Light.RED:
            measures = measures.filter(deadline__lt=today)  # 红灯 is overdue: lets the index narrow
    sort = data.get("sort")
    if sort == "light":
        measures = measures.by_urgency()
    elif sort == "unit":
        # Measures without a unit last on both databases (SQLite puts NULL first by default).
        measures = measures.order_by(
            F("unit__position").asc(nulls_last=True),
            F("unit__name").asc(nulls_last=True),
            "document_id",
            "position",
        )
    elif sort:
        field = F(sort.lstrip("-"))
        order = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
        measures = measures.order_by(order, "document_id", "position")
    return measures


def querystring(params, **overrides):
    merged = {**params, **overrides}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


@require_GET
@login_required
@vary_on_headers("HX-Request")
def measure_list(request):
    today = timezone.localdate()
    form = FilterForm(request.GET)
    params = {k: v for k, v in request.GET.items() if k != "page"}
    # Lazy: a ledger stored for the current data (freshness.py) needs no query at all.
    page = SimpleLazyObject(
        lambda: Paginator(filtered_measures(form, today), settings.LEDGER_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    )
    context = {
        "form": form,
        "page": page,
        "today": today,
        "params": querystring(params),
        "prev_query": SimpleLazyObject(
            lambda: (
                querystring(params, page=page.previous_page_number()) if page.has_previous() else ""
            )
        ),
        "next_query": SimpleLazyObject(
            lambda: querystring(params, page=page.next_page_number()) if page.has_next() else ""
        ),
        "bulk_form": BulkForm() if request.user.is_supervisor else None,
        "selectable": request.user.is_supervisor,
        "current_url": request.get_full_path(),
    }
    # Tabs of saved views; a fragment carries them out of band, so the marked tab follows.
    context.update(
        view_tabs_context(request, request.get_full_path(), oob=is_fragment_request(request))
    )
    template = "tracker/measure_list.html"
    if is_fragment_request(request):
        template += "#ledger"
    return render(request, template, context)


def row_context(request, measure, **extra):
    # Rows carry bulk-selection boxes only on the ledger page itself.
    on_ledger = (request.htmx.current_url_abs_path or "").startswith(reverse("measure_list"))
    return {
        "m": measure,
        "today": timezone.localdate(),
        "user": request.user,
        "selectable": request.user.is_supervisor and on_ledger,
        **extra,
    }


def ledger_row(measure_id):
    return Measure.objects.for_ledger().get(pk=measure_id)


# The inline edit row offers what a supervisor changes most; the detail page has the rest.
ROW_FIELDS = {"status", "owner", "unit", "deadline"}


@require_GET
@login_required
def measure_row(request, pk):
    """The display row, e.g. when an inline edit is cancelled."""
    get_object_or_404(Measure.objects.active(), pk=pk)
    if not is_fragment_request(request):
        return redirect("measure_detail", pk=pk)
    return render(request, "tracker/measure_list.html#row", row_context(request, ledger_row(pk)))


@require_GET
@login_required
def measure_text(request, pk):
    """The source sentence, fetched when a ledger row is opened: rows stay small."""
    measure = get_object_or_404(Measure.objects.active().only("pk", "text"), pk=pk)
    if not is_fragment_request(request):
        return redirect("measure_detail", pk=pk)
    return render(request, "tracker/measure_detail.html#source_text", {"m": measure})


@require_http_methods(["GET", "POST"])
@login_required
def measure_edit(request, pk):
    """Inline edit of a ledger row: GET gives the edit row, POST saves and gives the row."""
    # Loaded as a ledger row: after a save the row is drawn from it without reading it again.
    measure = get_object_or_404(Measure.objects.active().for_ledger(), pk=pk)
    allowed = request.user.editable_fields(measure)
    if not allowed:
        raise PermissionDenied("您无权修改此事项。")
    if request.method == "GET":
        if not is_fragment_request(request):
            return redirect("measure_detail", pk=pk)
        form = MeasureEditForm(
            instance=measure,
            user=request.user,
            submitted=ROW_FIELDS,
            initial={"version": measure.version},
        )
        return render(
            request, "tracker/measure_list.html#edit_row", row_context(request, measure, form=form)
        )

    submitted = {name for name in Measure.SUPERVISOR_FIELDS if name in request.POST}
    if submitted - set(allowed):
        raise PermissionDenied("您无权修改这些字段：" + "、".join(sorted(submitted - set(allowed))))
    form = MeasureEditForm.limited_to(frozenset(submitted))(
        request.POST, instance=measure, user=request.user, submitted=submitted
    )
    fragment = request.POST.get("fragment", "row")
    conflict = None
    if form.is_valid():
        try:
            changes = measure.edit(request.user, form.changes(), form.cleaned_data["version"])
        except Measure.Conflict as error:
            conflict = error
        else:
            if not request.htmx:
                if changes:
                    messages.success(request, f"已保存：{measure.title}")
                return HttpResponseRedirect(
                    safe_next(request, reverse("measure_detail", args=[pk]))
                )
            response = render_measure_fragment(request, measure, fragment)
            if changes:
                trigger_client_event(response, MEASURE_UPDATED, {"id": pk})
                trigger_client_event(response, FIELDS_EDITED, {"id": pk})
            return response

    # Invalid or conflicting: nothing was saved; show why next to the fields (status 200 so htmx swaps).
    measure = ledger_row(pk)
    if conflict:
        # A fresh copy: binding the form writes the typed values onto its instance, and the
        # conflict box must show what the database holds.
        form = conflict_form(request, ledger_row(pk), form)
    if not request.htmx:
        return render(
            request,
            "tracker/measure_detail.html",
            detail_context(request, measure, edit_form=form, conflict=conflict),
        )
    if fragment == "detail":
        return render(
            request,
            "tracker/measure_detail.html#edit_form",
            detail_context(request, measure, edit_form=form, conflict=conflict),
        )
    return render(
        request,
        "tracker/measure_list.html#edit_row",
        row_context(request, measure, form=form, conflict=conflict),
    )


def conflict_form(request, measure, stale_form):
    """A form on the current version that still carries what the person typed."""
    data = request.POST.copy()
    data["version"] = measure.version
    form = MeasureEditForm(
        data, instance=measure, user=request.user, submitted=set(stale_form.fields) - {"version"}
    )
    form.is_valid()
    return form


def render_measure_fragment(request, measure, fragment):
    """The saved measure's row (or the detail page's form), from the instance `edit` brought
    up to date."""
    if fragment == "detail":
        return render(
            request, "tracker/measure_detail.html#edit_form", detail_context(request, measure)
        )
    return render(request, "tracker/measure_list.html#row", row_context(request, measure))


@require_POST
@login_required
@supervisor_required
def measure_bulk(request):
    form = BulkForm(request.POST)
    back = safe_next(request, reverse("measure_list"))
    if not form.is_valid():
        if request.htmx:
            return render(request, "tracker/measure_list.html#bulk_errors", {"bulk_form": form})
        flash_errors(request, form)
        return HttpResponseRedirect(back)
    changes = form.changes()
    count, conflicts = 0, []
    for measure, version in form.cleaned_data["ids"]:
        try:
            measure.edit(request.user, changes, version, note="批量修改")
        except Measure.Conflict:
            conflicts.append(measure.title)  # changed since the page loaded: left alone
        else:
            count += 1
    if not request.htmx:
        messages.success(request, f"已批量修改 {count} 项。")
        if conflicts:
            messages.error(request, conflict_message(conflicts))
        return HttpResponseRedirect(back)
    response = render(
        request,
        "tracker/measure_list.html#bulk_done",
        {"count": count, "conflict_message": conflict_message(conflicts) if conflicts else ""},
    )
    trigger_client_event(response, MEASURE_UPDATED, {"count": count})
    trigger_client_event(response, LEDGER_CHANGED)  # many rows changed: the table reloads
    return response


def conflict_message(titles):
    shown = "、".join(f"“{t}”" for t in titles[:5]) + (" 等" if len(titles) > 5 else "")
    return f"{len(titles)} 项在您打开页面后已被他人修改，未作改动：{shown}。请刷新后核对。"


@require_POST
@login_required
@supervisor_required
def measure_archive(request, pk):
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    measure.archive(request.user)
    messages.success(request, f"已归档：{measure.title}")
    return redirect("measure_list")


# One measure ------------------------------------------------------------------------


def detail_context(request, measure, **extra):
    user = request.user
    allowed = user.editable_fields(measure)
    context = {
        "m": measure,
        "today": timezone.localdate(),
        "paragraph": paragraph_parts(measure),
        "progress_updates": measure.progress_updates.select_related(
            "author", "instruction__author"
        ),
        "changes": measure.changes.select_related("user"),
        "edit_form": None,
        "progress_form": ProgressForm(measure=measure)
        if user.can_report_progress(measure)
        else None,
        "extensions": measure.extension_requests.select_related("requested_by", "decided_by"),
        "closures": measure.closure_requests.select_related(
            "requested_by", "decided_by"
        ).prefetch_related("attachments"),
        "extension_form": ExtensionForm() if user.can_report_progress(measure) else None,
        "closure_form": ClosureForm() if user.can_report_progress(measure) else None,
        "decision_form": DecisionForm() if user.is_supervisor else None,
        "close_form": CloseForm() if user.is_supervisor else None,
        "reminder_form": ReminderForm() if user.is_supervisor else None,
        "reminders": measure.reminders.select_related("sent_by", "recipient")[:10],
        # The measure as a view loaded it carries no latest report: the database's light does.
        "light": Light(
            Measure.objects.with_light(timezone.localdate())
            .filter(pk=measure.pk)
            .values_list("light", flat=True)
            .get()
        ),
        "instructions": Instruction.objects.concerning(measure)
        .select_related("author", "unit")
        .annotate(answer_count=Count("answers")),
        "instruction_form": InstructionForm()
        if user.is_leader and not measure.archived_at
        else None,
        "readings": (readings := list(measure.readings.select_related("user"))),
        "read_by_me": any(r.user_id == user.pk for r in readings),
    }
    if allowed:
        context["edit_form"] = MeasureEditForm(
            instance=measure, user=user, initial={"version": measure.version}
        )
    context.update(extra)
    return context


def paragraph_parts(measure):
    """The source paragraph split around the measure's sentence, for highlighting."""
    text = measure.document.clean_text
    start, end = measure.source_start, measure.source_end
    if text[start:end] != measure.text:
        return {"before": "", "match": measure.text, "after": ""}
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    para_end = len(text) if para_end == -1 else para_end
    return {"before": text[para_start:start], "match": text[start:end], "after": text[end:para_end]}


@require_GET
@login_required
def measure_detail(request, pk):
    measures = Measure.objects.select_related(
        "document", "section", "unit", "owner"
    ).prefetch_related("co_units", "topics")
    template = "tracker/measure_detail.html"
    # Parts of the page refresh themselves after a change elsewhere on it.
    fragments = {
        "history": "#history",
        "edit-form": "#edit_form",
        "workflow": "#workflow",
        "instructions": "#instructions",
        "status-tag": "#status_tag",
    }
    if is_fragment_request(request) and request.htmx.target in fragments:
        template += fragments[request.htmx.target]
        return render(
            request, template, detail_context(request, get_object_or_404(measures, pk=pk))
        )
    # The page is drawn from `detail` only when it is not stored for the current data; the
    # title is all it needs besides.
    context = {
        "m": get_object_or_404(Measure.objects.only("title"), pk=pk),
        "today": timezone.localdate(),
        "current_url": request.get_full_path(),
        "detail": SimpleLazyObject(
            lambda: detail_context(request, get_object_or_404(measures, pk=pk))
        ),
    }
    return render(request, template, context)


def active_measure(pk):
    return get_object_or_404(
        Measure.objects.active().select_related("document", "section", "owner"), pk=pk
    )


@require_POST
@login_required
def measure_progress(request, pk):
    measure = active_measure(pk)
    if not request.user.can_report_progress(measure):
        raise PermissionDenied("您无权为此事项填报进展。")
    form = ProgressForm(request.POST, measure=measure)
    if form.is_valid():
        measure.report_progress(request.user, **form.cleaned_data)
        if not request.htmx:
            messages.success(request, "进展已记录。")
            return redirect("measure_detail", pk=pk)
        measure.refresh_from_db()
        response = render(
            request,
            "tracker/measure_detail.html#journal",
            detail_context(request, measure, progress_form=ProgressForm(measure=measure)),
        )
        trigger_client_event(response, MEASURE_UPDATED, {"id": pk})
        trigger_client_event(response, PROGRESS_ADDED, {"id": pk})
        return response
    template = "tracker/measure_detail.html" + ("#journal" if request.htmx else "")
    return render(request, template, detail_context(request, measure, progress_form=form))


# Leaders: 批示 and 圈阅 ------------------------------------------------------------------


@require_POST
@login_required
@leader_required
def measure_instruct(request, pk):
    measure = active_measure(pk)
    form = InstructionForm(request.POST)
    if form.is_valid():
        measure.instruct(request.user, form.cleaned_data["text"])
        if not request.htmx:
            messages.success(request, "批示已送达责任人和督查员。")
            return redirect("measure_detail", pk=pk)
        context = detail_context(request, measure, instruction_message="批示已送达责任人和督查员。")
        response = render(request, "tracker/measure_detail.html#instructions", context)
        return trigger_client_event(response, MEASURE_UPDATED, {"id": pk})
    if not request.htmx:
        flash_errors(request, form)
        return redirect("measure_detail", pk=pk)
    context = detail_context(request, measure, instruction_form=form)
    return render(request, "tracker/measure_detail.html#instructions", context)


@require_POST
@login_required
@leader_required
def measure_read(request, pk):
    measure = active_measure(pk)
    measure.mark_read(request.user)
    if not request.htmx:
        messages.success(request, "已圈阅。")
        return redirect("measure_detail", pk=pk)
    response = render(
        request, "tracker/measure_detail.html#instructions", detail_context(request, measure)
    )
    return trigger_client_event(response, MEASURE_UPDATED, {"id": pk})


@require_http_methods(["GET", "POST"])
@login_required
def unit_instruct(request, pk):
    """A 批示 on a unit's whole list: leaders write it, everyone may read it."""
    unit = get_object_or_404(Unit, pk=pk)
    form = None
    if request.user.is_leader:
        form = InstructionForm(request.POST if request.method == "POST" else None)
    elif request.method == "POST":
        raise PermissionDenied("只有领导可以作出批示。")
    if request.method == "POST" and form.is_valid():
        Instruction.give(request.user, form.cleaned_data["text"], unit=unit)
        messages.success(request, f"对{unit.name}的批示已送达该单位责任人和督查员。")
        return redirect("unit_instruct", pk=pk)
    context = {
        "unit": unit,
        "form": form,
        "instructions": unit.instructions.select_related("author").annotate(
            answer_count=Count("answers")
        ),
        "measure_count": Measure.objects.open().for_unit(unit).count(),
    }
    return render(request, "tracker/unit_instruct.html", context)


# Personal and supervisor views --------------------------------------------------------


@require_GET
@login_required
def my_measures(request):
    today = timezone.localdate()

    def worklist():
        measures = list(Measure.objects.worklist(request.user, today))
        for m in measures:
            m.light = light_of(m, today)
            m.next_report = lights.next_due_date(m.report_cadence, m.report_day, today)
        return measures

    context = {
        # Read only if the list is not stored for the current data (freshness.py).
        "measures": SimpleLazyObject(worklist),
        "today": today,
        "due_soon_days": settings.DUE_SOON_DAYS,
        "buckets": WORKLIST_BUCKETS,
    }
    return render(request, "tracker/my_measures.html", context)


WORKLIST_BUCKETS = {
    0: "退回重办和催办",
    1: "已逾期",
    2: "应报送进展",
    3: "即将到期",
    4: "推进中的其他事项",
    5: "待审核",
    6: "已办结或暂缓",
}


def dashboard_context(today):
    active = Measure.objects.active()
    counts = light_counts(active, today)
    overdue = active.overdue(today)
    by_owner = counts["overdue_by_owner"][:CHART_BARS]
    owners = User.objects.in_bulk([pk for pk, _ in by_owner if pk is not None])
    by_topic = overdue_by_topic(overdue)
    return {
        **counts,
        "pending_extensions": ExtensionRequest.objects.pending().select_related(
            "measure", "requested_by"
        ),
        "pending_closures": ClosureRequest.objects.pending().select_related(
            "measure", "requested_by"
        ),
        "rechecks_due": active.rechecks_due(today),
        "unanswered": Instruction.objects.unanswered()
        .filter(Q(measure__isnull=True) | Q(measure__archived_at__isnull=True))
        .select_related("author", "measure", "unit")[:20],
        "charts": [
            bar_chart(
                "按牵头单位",
                [(r["name"], r["red"], {"unit": r["pk"] or ""}) for r in counts["overdue_by_unit"]],
            ),
            bar_chart(
                "按责任人",
                [
                    (str(owners[pk]) if pk in owners else "未指定", n, {"owner": pk or ""})
                    for pk, n in by_owner
                ],
            ),
            bar_chart("按领域", [(name, n, {"topic": pk}) for pk, name, n in by_topic]),
        ],
        # The longest overdue first; the ledger (?due=overdue) has the full list.
        # By deadline then id: the deadline index yields them in order, so the database stops
        # after a page instead of sorting every overdue measure.
        "overdue_list": overdue.for_ledger().order_by("deadline", "pk")[
            : settings.LEDGER_PAGE_SIZE
        ],
        "today": today,
        "due_soon_days": settings.DUE_SOON_DAYS,
    }


def overdue_by_topic(overdue):
    """[(topic pk, name, overdue measures)], most first. Counted from the overdue measures'
    side, so the database walks the overdue range of the deadline index (which covers the
    overdue test) instead of listing every overdue id for an IN."""
    counts = dict(overdue.order_by().values_list("topics").annotate(n=Count("pk")))
    # The LEFT JOIN counts measures without a 领域 under None. An INNER JOIN would be the same
    # numbers, but SQLite then walks every 领域 link and reads the whole row of each measure.
    counts.pop(None, None)
    names = dict(Topic.objects.filter(pk__in=counts).values_list("pk", "name"))
    # A 领域 deleted between the two queries is left out.
    bars = [(pk, names[pk], n) for pk, n in counts.items() if pk in names]
    return sorted(bars, key=lambda t: (-t[2], t[1]))


def light_counts(measures, today):
    """The dashboard's numbers: one GROUP BY unit × owner, tallying the lights in each group,
    gives the totals, the lights by unit, 未按时报送 by unit, and overdue by unit and by owner
    (红灯 is exactly "overdue").

    The groups stream off the light-inputs index (MeasureQuerySet.light_tallies) and are
    named after; the two totals that cut across the lights (due soon, 待交办) are counts over
    their own indexes rather than filters evaluated on every row of the GROUP BY."""
    order = [Light.RED, Light.YELLOW, Light.UNASSIGNED, Light.BLUE, Light.GREEN, Light.DONE]
    groups = measures.light_tallies(
        today, "unit_id", "owner_id", missing=Count("pk", filter=report_missing_q())
    )
    units, lit = {}, dict.fromkeys(Light, 0)
    by_owner = Counter()
    for unit_id, owner_id, letters, missing in groups:
        unit = units.setdefault(unit_id, {"counts": dict.fromkeys(order, 0), "missing": 0})
        unit["missing"] += missing
        for colour, n in lights.tally(letters).items():
            lit[colour] += n
            if colour in unit["counts"]:
                unit["counts"][colour] += n
            if colour == Light.RED:
                by_owner[owner_id] += n
    names = dict(Unit.objects.filter(pk__in=units.keys() - {None}).values_list("pk", "name"))
    totals = {
        "open": sum(lit.values()) - lit[Light.DONE] - lit[Light.PAUSED],
        "overdue": lit[Light.RED],
        "soon": measures.due_soon(today).count(),
        "done": lit[Light.DONE],
        "unassigned": measures.unassigned().count(),
    }
    rows = sorted(
        (
            {
                "name": names.get(pk, "未指定"),
                "pk": pk,
                "cells": [unit["counts"][c] for c in order],
                "missing": unit["missing"],
                "red": unit["counts"][Light.RED],
            }
            for pk, unit in units.items()
        ),
        key=lambda r: (-r["red"], r["name"]),
    )
    return {
        "totals": totals,
        "light_order": order,
        "light_totals": [(c, lit[c]) for c in order],
        "light_rows": rows,
        "overdue_by_unit": [r for r in rows if r["red"]],
        # Most first; ties in a fixed order (no owner last).
        "overdue_by_owner": sorted(
            by_owner.items(), key=lambda i: (-i[1], i[0] is None, i[0] or 0)
        ),
        "missing_reports": sum(r["missing"] for r in rows),
    }


BAR_HEIGHT = 24
LABEL_WIDTH = 150
CHART_WIDTH = 460


CHART_BARS = 12


def bar_chart(title, rows):
    """Server-rendered horizontal bars: coordinates computed here, drawn by the template."""
    top = max((n for _, n, _ in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 40
    bars = []
    for index, (label, n, filters) in enumerate(rows[:CHART_BARS]):
        bars.append(
            {
                "label": label,
                "n": n,
                "y": index * BAR_HEIGHT,
                "text_y": index * BAR_HEIGHT + 16,
                "width": max(2, round(span * n / top)),
                "value_x": LABEL_WIDTH + max(2, round(span * n / top)) + 6,
                "url": reverse("measure_list") + "?" + urlencode({**filters, "due": "overdue"}),
            }
        )
    return {
        "title": title,
        "bars": bars,
        "height": max(BAR_HEIGHT, len(bars) * BAR_HEIGHT),
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
    }


@require_GET
@login_required
@vary_on_headers("HX-Request")
def overdue(request):
    today = timezone.localdate()
    # Computed only if a part of the page is not stored for the current data (freshness.py).
    context = {
        "dash": SimpleLazyObject(lambda: dashboard_context(today)),
        "today": today,
        "current_url": request.get_full_path(),
    }
    template = "tracker/overdue.html"
    if is_fragment_request(request) and request.htmx.target == "dashboard-summary":
        template += "#summary"
    return render(request, template, context)


# Inbox --------------------------------------------------------------------------------

NOTICES_CHANGED = "noticesChanged"  # the badge refreshes


@require_GET
@login_required
@vary_on_headers("HX-Request")
def inbox(request):
    template = "tracker/inbox.html"
    if is_fragment_request(request) and request.htmx.target == "inbox-badge":
        return render(request, template + "#badge")
    return render(request, template, inbox_context(request))


def inbox_context(request):
    show_all = bool(request.GET.get("all") or request.POST.get("all"))
    notices = request.user.notifications.select_related("measure", "unit", "actor")
    if not show_all:
        notices = notices.unread()
    return {"notices": notices[:200], "show_all": show_all}


@require_POST
@login_required
def inbox_read(request, pk):
    # Only the recipient's own notices exist for them: anyone else's is a 404.
    notice = get_object_or_404(request.user.notifications.select_related("measure", "unit"), pk=pk)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    if not request.htmx:
        return redirect("inbox")
    response = render(request, "tracker/inbox.html#item", {"n": notice})
    return trigger_client_event(response, NOTICES_CHANGED)


@require_POST
@login_required
def inbox_read_all(request):
    count = request.user.notifications.mark_read()
    if not request.htmx:
        messages.success(request, f"已将 {count} 条通知标为已读。")
        return redirect("inbox")
    response = render(request, "tracker/inbox.html#list", inbox_context(request))
    return trigger_client_event(response, NOTICES_CHANGED)


# Documents ----------------------------------------------------------------------------


@require_GET
@login_required
def document_list(request):
    documents = Document.objects.annotate(
        measure_count=Count("measures", filter=Q(measures__archived_at__isnull=True))
    ).order_by("-imported_at", "source")
    return render(
        request,
        "tracker/document_list.html",
        {
            "documents": documents,
            "upload_form": UploadForm() if request.user.is_supervisor else None,
        },
    )


@require_GET
@login_required
def document_detail(request, pk):
    document = get_object_or_404(Document, pk=pk)
    measures = list(
        document.measures.active()
        .select_related("unit")
        .prefetch_related("joint_units", "co_units")
        .order_by("source_start")
    )
    counts = Counter(r["kind"] for r in document.repairs)
    return render(
        request,
        "tracker/document_detail.html",
        {
            "document": document,
            "segments": highlight_segments(document.clean_text, measures),
            "sections": document.sections.filter(archived_at__isnull=True),
            "measures": measures,
            "created_units": document.created_units.all(),
            "repair_counts": [(REPAIR_LABELS.get(k, k), n) for k, n in counts.most_common()],
            "notable_repairs": [
                {**r, "label": REPAIR_LABELS.get(r["kind"], r["kind"])}
                for r in document.repairs
                if r["kind"] not in ROUTINE_REPAIRS
            ],
        },
    )


REPAIR_LABELS = {
    "html": "HTML残留",
    "pinyin": "拼音注音",
    "mojibake": "乱码修复",
    "lost_char": "缺字",
    "t2s": "繁转简",
    "variant": "异体字/着著",
    "wrap": "断行合并",
    "space": "多余空格",
    "paragraph": "分段",
    "doubled": "重复词",
    "unit_split": "单位拆分",
}
# Hundreds of these per document: counted, not listed one by one.
ROUTINE_REPAIRS = {"pinyin", "t2s", "space"}


def highlight_segments(text, measures):
    """Split the clean text into plain and measure segments (measures do not overlap)."""
    segments, cursor = [], 0
    for measure in measures:
        start, end = measure.source_start, measure.source_end
        if start < cursor or text[start:end] != measure.text:
            continue
        if start > cursor:
            segments.append({"text": text[cursor:start]})
        segments.append({"text": text[start:end], "measure": measure})
        cursor = end
    segments.append({"text": text[cursor:]})
    return segments


def staged_folder(token):
    return Path(settings.MEDIA_ROOT) / "imports" / token


def stage_upload(upload):
    """Keep an upload until the supervisor confirms it; stale ones (a day old) are dropped."""
    root = Path(settings.MEDIA_ROOT) / "imports"
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - 24 * 3600
    for old in root.iterdir():
        if old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_hex(16)
    folder = staged_folder(token)
    folder.mkdir()
    path = folder / Path(upload.name).name
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return token, path


def staged_file(token):
    folder = staged_folder(token)
    files = list(folder.iterdir()) if folder.is_dir() else []
    return files[0] if len(files) == 1 else None


@require_POST
@login_required
@supervisor_required
def document_upload(request):
    """Parse the upload and show what importing it would do; nothing is written yet."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("document_list")
    upload = form.cleaned_data["file"]
    token, path = stage_upload(upload)
    result = import_file(path, source=f"upload/{path.name}", dry_run=True)
    if result.outcome == "error":
        shutil.rmtree(staged_folder(token), ignore_errors=True)
        messages.error(request, result.error)
        return redirect("document_list")
    return render(
        request,
        "tracker/document_preview.html",
        {
            "result": result,
            "outline": result.parsed.outline,
            "sections": [
                (titles, section)
                for top in result.parsed.outline.sections
                for titles, section in top.walk()
            ],
            "confirm_form": ImportConfirmForm(initial={"token": token}),
        },
    )


@require_POST
@login_required
@supervisor_required
def document_import(request):
    form = ImportConfirmForm(request.POST)
    path = staged_file(form.cleaned_data["token"]) if form.is_valid() else None
    if path is None:
        messages.error(request, "导入预览已过期或不存在，请重新上传文件。")
        return redirect("document_list")
    try:
        result = import_file(path, source=f"upload/{path.name}")
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    if result.outcome == "error":
        messages.error(request, result.error)
        return redirect("document_list")
    document = Document.objects.get(source=result.parsed.source)
    summary = f"已导入《{document.title}》：{result.measures} 项（新建 {result.created}）"
    if result.units_created:
        summary += f"，新建单位 {len(result.units_created)} 个：{'、'.join(result.units_created)}"
    messages.success(request, summary + "。")
    return redirect("document_detail", pk=document.pk)


# Units ---------------------------------------------------------------------------------


@require_GET
@login_required
@supervisor_required
def unit_list(request):
    units = Unit.objects.select_related("created_from").annotate(
        lead_count=Count("lead_measures", filter=Q(lead_measures__archived_at__isnull=True)),
    )
    return render(
        request,
        "tracker/unit_list.html",
        {
            "units": units,
            "merge_form": UnitMergeForm(initial=request.GET.dict() or None),
            "lockouts": locked_out_attempts(),
        },
    )


def locked_out_attempts():
    # The same rule axes applies at login: this many failures within the cool-off window.
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time")


@require_POST
@login_required
@supervisor_required
def unlock_user(request):
    form = UnlockForm(request.POST)
    if form.is_valid():
        username = form.cleaned_data["username"]
        if axes_reset(username=username):
            messages.success(request, f"已解除“{username}”的登录锁定，可以重新登录。")
        else:
            messages.info(request, f"“{username}”当前没有被锁定。")
    else:
        flash_errors(request, form)
    return redirect("unit_list")


@require_POST
@login_required
@supervisor_required
def unit_merge(request):
    form = UnitMergeForm(request.POST)
    if form.is_valid():
        source, target = form.cleaned_data["source"], form.cleaned_data["target"]
        try:
            source.merge_into(target, request.user)
        except WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, f"已将“{source.name}”合并到“{target.name}”，原名称已作为别名保留。"
            )
    else:
        flash_errors(request, form)
    return redirect("unit_list")


# The 督办 workflow ---------------------------------------------------------------------


def workflow_response(request, measure_id, message, error=False, **forms):
    """After a workflow step: the workflow panel for htmx, otherwise back to the measure."""
    if not request.htmx:
        (messages.error if error else messages.success)(request, message)
        return redirect("measure_detail", pk=measure_id)
    measure = Measure.objects.select_related("document", "section", "unit", "owner").get(
        pk=measure_id
    )
    context = detail_context(request, measure, workflow_message=message, workflow_error=error)
    context.update(forms)
    response = render(request, "tracker/measure_detail.html#workflow", context)
    if not error:
        trigger_client_event(response, MEASURE_UPDATED, {"id": measure_id})
        trigger_client_event(response, WORKFLOW_CHANGED, {"id": measure_id})
    return response


def responsible_measure(request, pk):
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    if not request.user.can_report_progress(measure):
        raise PermissionDenied("只有此事项的责任人或督查员可以办理。")
    return measure


@require_POST
@login_required
def extension_request(request, pk):
    measure = responsible_measure(request, pk)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        return workflow_response(
            request, pk, "延期申请未提交，请检查填写内容。", True, extension_form=form
        )
    try:
        ext = measure.request_extension(
            request.user,
            form.cleaned_data["deadline"],
            form.cleaned_data["reason"],
            timezone.localdate(),
        )
    except WorkflowError as error:
        return workflow_response(request, pk, str(error), True, extension_form=form)
    label = "超期申请已提交" if ext.late else "延期申请已提交"
    return workflow_response(request, pk, f"{label}，等待督查员审批。")


@require_POST
@login_required
@supervisor_required
def extension_decide(request, pk):
    ext = get_object_or_404(ExtensionRequest, pk=pk)
    approved = f"已批准延期至 {ext.requested_deadline:%Y-%m-%d}。"
    return decide(request, ext, approved, "已驳回延期申请。")


@require_POST
@login_required
def closure_request(request, pk):
    measure = responsible_measure(request, pk)
    form = ClosureForm(request.POST, request.FILES)
    if not form.is_valid():
        return workflow_response(
            request, pk, "办结申请未提交，请检查填写内容。", True, closure_form=form
        )
    try:
        measure.request_closure(
            request.user, form.cleaned_data["summary"], form.cleaned_data["files"]
        )
    except WorkflowError as error:
        return workflow_response(request, pk, str(error), True, closure_form=form)
    return workflow_response(request, pk, "办结申请已提交，等待督查员审核。")


@require_POST
@login_required
@supervisor_required
def closure_decide(request, pk):
    closure = get_object_or_404(ClosureRequest, pk=pk)
    return decide(request, closure, "已销号办结。", "已退回重办。", "recheck_on")


def decide(request, pending, approved, rejected, *options):
    """A supervisor's decision on a 延期 or 办结 request: the same form and the same path."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        message = "；".join(e for errors in form.errors.values() for e in errors)
        return workflow_response(request, pending.measure_id, message, True, decision_form=form)
    approve = form.cleaned_data["decision"] == "approve"
    extra = {name: form.cleaned_data[name] for name in options}
    try:
        pending.decide(request.user, approve, form.cleaned_data["comment"], **extra)
    except WorkflowError as error:
        return workflow_response(request, pending.measure_id, str(error), True, decision_form=form)
    return workflow_response(request, pending.measure_id, approved if approve else rejected)


@require_POST
@login_required
@supervisor_required
def measure_recheck(request, pk):
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    form = RecheckForm(request.POST)
    if not form.is_valid():
        message = "；".join(e for errors in form.errors.values() for e in errors)
        return workflow_response(request, pk, message, True)
    comment = form.cleaned_data["comment"]
    try:
        if form.cleaned_data["decision"] == "reopen":
            measure.reopen(request.user, comment)
            message = "回头看：已重新打开此事项。"
        else:
            measure.confirm_recheck(request.user, comment)
            message = "回头看：已确认办结。"
    except WorkflowError as error:
        return workflow_response(request, pk, str(error), True)
    return workflow_response(request, pk, message)


@require_POST
@login_required
@supervisor_required
def measure_close(request, pk):
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return workflow_response(request, pk, "直接销号须填写说明。", True, close_form=form)
    try:
        measure.close_directly(request.user, form.cleaned_data["note"])
    except WorkflowError as error:
        return workflow_response(request, pk, str(error), True, close_form=form)
    return workflow_response(request, pk, "已直接销号。")


@require_POST
@login_required
@supervisor_required
def measure_remind(request, pk):
    measure = get_object_or_404(Measure.objects.active().select_related("owner"), pk=pk)
    form = ReminderForm(request.POST)
    if not form.is_valid():
        return workflow_response(request, pk, "附言最多 500 字。", True)
    try:
        reminder = measure.remind(request.user, form.cleaned_data["note"])
    except WorkflowError as error:
        return workflow_response(request, pk, str(error), True)
    reminders.send_manual([reminder])
    return workflow_response(request, pk, f"已催办 {measure.owner}。")


@require_POST
@login_required
@supervisor_required
def unit_remind(request, pk):
    """催办 every overdue measure of a unit: the first POST asks, the second (confirm=1) sends.

    A confirmation form rather than hx-confirm, which needs JavaScript: one click must never
    mail a whole unit."""
    unit = get_object_or_404(Unit, pk=pk)
    today = timezone.localdate()
    overdue = Measure.objects.overdue(today).filter(unit=unit, owner__isnull=False)
    if request.POST.get("confirm") != "1":
        count = overdue.count()
        if not count:
            message = f"{unit}没有需要催办的逾期事项。"
            if not request.htmx:
                messages.info(request, message)
                return redirect(safe_next(request, reverse("overdue")))
            return render(request, "tracker/overdue.html#remind_done", {"message": message})
        confirm = {
            "unit": unit,
            "count": count,
            "people": overdue.order_by().values("owner").distinct().count(),
        }
        if request.htmx:
            return render(request, "tracker/overdue.html#remind_confirm", {"confirm": confirm})
        # Nothing has changed yet, so the dashboard is shown with the question in the unit's row.
        context = {
            "dash": dashboard_context(today),
            "today": today,
            "confirm": confirm,
            "current_url": reverse("overdue"),
        }
        return render(request, "tracker/overdue.html", context)
    with transaction.atomic():
        sent = [m.remind(request.user, "逾期事项集中催办") for m in overdue.select_related("owner")]
    mails = reminders.send_manual(sent)
    sent_text = "提醒邮件将在保存后发出" if mails is None else f"发出提醒邮件 {mails} 封"
    message = f"已催办{unit}逾期事项 {len(sent)} 项，{sent_text}。"
    if not request.htmx:
        messages.success(request, message)
        return redirect(safe_next(request, reverse("overdue")))
    return render(request, "tracker/overdue.html#remind_done", {"message": message})


@require_GET
@login_required
def attachment_download(request, pk):
    attachment = get_object_or_404(Attachment.objects.select_related("closure__measure"), pk=pk)
    if not request.user.can_see_workflow(attachment.closure.measure):
        raise PermissionDenied("您无权查看此事项的佐证材料。")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Excel 台账 and the monthly 通报 -------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_SESSION_KEY = "sheet_import"


def download(content, filename, content_type):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
@login_required
def measure_export(request, fmt):
    today = timezone.localdate()
    form = FilterForm(request.GET)
    measures = filtered_measures(form, today)  # the export adds its columns
    # The title, the printed header and the file name say what was filtered.
    filters = form.active_filters()
    filename = spreadsheets.export_filename(today, filters, fmt)
    if fmt == "csv":
        content = spreadsheets.export_csv(measures, today=today)
        return download(content.encode("utf-8"), filename, "text/csv; charset=utf-8")
    title = f"督办事项台账（截至{today:%Y-%m-%d}）"
    content = spreadsheets.export_xlsx(measures, today=today, title=title, filters=filters)
    return download(content, filename, XLSX)


@require_http_methods(["GET", "POST"])
@login_required
def ledger_import(request):
    """Upload → preview of every change → apply, all or nothing."""
    user = request.user
    if not (user.is_supervisor or user.is_unit_staff):
        raise PermissionDenied("领导账号为只读，不能导入台账。")
    context = {"form": SheetUploadForm()}
    if request.method == "POST" and request.POST.get("action") == "apply":
        stored = request.session.get(SHEET_SESSION_KEY)
        if not stored:
            messages.error(request, "没有待导入的台账，请重新上传。")
            return redirect("ledger_import")
        plan = spreadsheets.plan_import(stored["rows"], user)
        if not plan.errors and plan.changes:
            try:
                changed = spreadsheets.apply_plan(plan, user)
            except spreadsheets.SheetError as error:
                context.update(plan=plan, name=stored["name"], apply_error=str(error))
                return render(request, "tracker/ledger_import.html", context)
            del request.session[SHEET_SESSION_KEY]
            messages.success(request, f"已从《{stored['name']}》导入，修改 {changed} 项事项。")
            return redirect("measure_list")
        context.update(plan=plan, name=stored["name"])
    elif request.method == "POST":
        form = SheetUploadForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = spreadsheets.read_sheet(upload)
            except spreadsheets.SheetError as error:
                form.add_error("file", str(error))
            else:
                request.session[SHEET_SESSION_KEY] = {"rows": rows, "name": Path(upload.name).name}
                context.update(
                    plan=spreadsheets.plan_import(rows, user), name=Path(upload.name).name
                )
    return render(request, "tracker/ledger_import.html", context)


@require_GET
@login_required
def report_monthly(request):
    today = timezone.localdate()
    raw = request.GET.get("month") or f"{today:%Y-%m}"
    try:
        year, month = (int(part) for part in raw.split("-"))
        report = reports.monthly_report(year, month, today=today)
    except ValueError as error:
        message = str(error) if "月" in str(error) else "月份格式应为 YYYY-MM，例如 2026-11。"
        return render(
            request, "tracker/report_monthly.html", {"error": message, "month": raw}, status=400
        )
    if request.GET.get("format") == "xlsx":
        return download(reports.report_xlsx(report), f"督办工作通报-{year}-{month:02d}.xlsx", XLSX)
    first = date(year, month, 1)
    context = {
        "report": report,
        "month": f"{year}-{month:02d}",
        "ranking_rule": reports.RANKING_RULE,
        "readings": (readings := list(Reading.objects.filter(month=first).select_related("user"))),
        "read_by_me": any(r.user_id == request.user.pk for r in readings),
    }
    return render(request, "tracker/report_monthly.html", context)


@require_POST
@login_required
@leader_required
def report_read(request):
    """圈阅 the month's 通报."""
    raw = request.POST.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        reports.report_day(year, month, timezone.localdate())
    except ValueError:
        messages.error(request, "月份格式应为 YYYY-MM，例如 2026-11。")
        return redirect("report_monthly")
    Reading.objects.get_or_create(user=request.user, month=date(year, month, 1))
    messages.success(request, f"已圈阅 {year}年{month}月督办工作通报。")
    return redirect(f"{reverse('report_monthly')}?month={year}-{month:02d}")


# Saved views (常用视图) -------------------------------------------------------------------

SAVED_VIEWS_CHANGED = "savedViewsChanged"  # the tabs above the ledger changed


def ledger_url(query):
    return reverse("measure_list") + (f"?{query}" if query else "")


def view_tabs_context(request, current_url, oob=False, **extra):
    """The tabs and the save form for the ledger at `current_url` (its tab is marked)."""
    user = request.user
    query = SavedViewForm.canonical(QueryDict(urlsplit(current_url).query))
    return {
        "view_tabs": [(v, v.can_be_deleted_by(user)) for v in SavedView.objects.visible_to(user)],
        "current_query": query,
        "current_url": current_url,
        "view_form": SavedViewForm(owner=user, initial={"query": query}),
        "tabs_oob": oob,
        "confirm_delete": request.GET.get("confirm_delete", ""),
        **extra,
    }


@require_POST
@login_required
def saved_view_create(request):
    form = SavedViewForm(request.POST, owner=request.user)
    saved = None
    if form.is_valid():
        try:
            with transaction.atomic():
                saved = form.save()
        except IntegrityError:  # the same name sent twice at once
            form.add_error("name", "您已有同名的视图，请换一个名称。")
    if not request.htmx:
        if saved:
            messages.success(request, f"已保存视图“{saved.name}”。")
            return HttpResponseRedirect(ledger_url(saved.query))
        flash_errors(request, form)
        posted = SavedViewForm.canonical(QueryDict(request.POST.get("query", "")))
        return HttpResponseRedirect(ledger_url(posted))
    if saved is None:
        current = request.htmx.current_url_abs_path or reverse("measure_list")
        context = view_tabs_context(request, current, view_form=form)
        return render(request, "tracker/measure_list.html#view_save", context)
    context = view_tabs_context(request, ledger_url(saved.query), oob=True)
    response = render(request, "tracker/measure_list.html#view_saved", context)
    return trigger_client_event(response, SAVED_VIEWS_CHANGED, {"id": saved.pk})


@require_POST
@login_required
def saved_view_delete(request, pk):
    # Someone else's personal view does not exist for this user: 404, not 403.
    view = get_object_or_404(SavedView.objects.visible_to(request.user), pk=pk)
    if not view.can_be_deleted_by(request.user):
        raise PermissionDenied("共享视图只有创建人或督查员可以删除。")
    if request.POST.get("confirm") != "1":
        # No JavaScript, so no hx-confirm: the ledger asks beside the tab before deleting.
        next_url = safe_next(request, reverse("measure_list"))
        joiner = "&" if "?" in next_url else "?"
        return HttpResponseRedirect(f"{next_url}{joiner}confirm_delete={view.pk}#view-tabs")
    view.delete()
    if not request.htmx:
        messages.success(request, f"已删除视图“{view.name}”。")
        return HttpResponseRedirect(safe_next(request, reverse("measure_list")))
    current = request.htmx.current_url_abs_path or reverse("measure_list")
    response = render(
        request, "tracker/measure_list.html#view_tabs", view_tabs_context(request, current)
    )
    return trigger_client_event(response, SAVED_VIEWS_CHANGED)


# Calendars ------------------------------------------------------------------------------

CALENDAR_TOKEN_RESET = "calendarTokenReset"


def calendar_feed_url(user):
    if not user.calendar_token:
        return ""
    return settings.SITE_URL + reverse("calendar_feed", args=[user.calendar_token])


@require_GET
@login_required
def calendar_month(request):
    """Deadlines, report due dates and 回头看 by day, filtered as the ledger filters."""
    today = timezone.localdate()
    form = FilterForm(request.GET)
    params = {k: v for k, v in request.GET.items() if k not in ("month", "day", "page")}
    context = {
        "form": form,
        "today": today,
        "ledger_query": querystring(params),
        "feed_url": calendar_feed_url(request.user),
        # Without JavaScript a reset is asked for again on the page before it happens.
        "confirm_reset": request.GET.get("confirm_reset") == "1",
    }
    try:
        first = calendars.parse_month(request.GET.get("month"), today)
    except ValueError as error:
        context.update(error=str(error), month_value=request.GET.get("month", ""))
        return render(request, "tracker/calendar.html", context, status=400)
    selected = calendars.parse_day(request.GET.get("day"), first)
    month = calendars.month_view(filtered_measures(form, today), first, today, selected)
    context.update(
        month=month,
        month_value=month.value,
        weekdays=calendars.WEEKDAYS,
        prev_query=querystring(params, month=month.previous),
        next_query=querystring(params, month=month.next),
        today_query=querystring(params),
        day_query=querystring(params, month=month.value),
    )
    return render(request, "tracker/calendar.html", context)


@require_POST
@login_required
def calendar_token(request):
    """A new secret feed address; the old one stops working at once. Replacing a working
    address asks first: htmx after the browser's confirm (it sends confirm=1), a plain form
    on a second page."""
    had_one = bool(request.user.calendar_token)
    if had_one and request.POST.get("confirm") != "1":
        return redirect(reverse("calendar") + "?confirm_reset=1#calendar-feed")
    request.user.reset_calendar_token()
    message = "已生成新的订阅地址，原地址已失效。" if had_one else "已生成订阅地址。"
    if not request.htmx:
        messages.success(request, message)
        return redirect("calendar")
    context = {"feed_url": calendar_feed_url(request.user), "feed_message": message}
    response = render(request, "tracker/calendar.html#feed", context)
    return trigger_client_event(response, CALENDAR_TOKEN_RESET)


@require_GET
def calendar_feed(request, token):
    """No session here: calendar clients cannot sign in. The unguessable token in the address
    is the credential, looked up through its unique index."""
    user = get_object_or_404(User, calendar_token=token, is_active=True)
    response = HttpResponse(
        calendars.feed_ics(user, timezone.localdate()), content_type="text/calendar; charset=utf-8"
    )
    # The address is a secret: no shared cache keeps the feed, no search engine lists it.
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
