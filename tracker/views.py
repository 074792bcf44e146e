import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from .forms import BulkForm, FilterForm, MeasureEditForm, ProgressForm, UploadForm
from .importing import import_file
from .models import Change, Document, Measure, Topic

MEASURE_UPDATED = "measureUpdated"


def supervisor_required(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_supervisor:
            raise PermissionDenied("只有督查员可以执行此操作。")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


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
    for name in ("status", "unit", "owner", "document"):
        if data.get(name):
            measures = measures.filter(**{name: data[name]})
    if data.get("topic"):
        measures = measures.filter(topics=data["topic"])
    if data.get("due") == "overdue":
        measures = measures.overdue(today)
    elif data.get("due") == "soon":
        measures = measures.due_soon(today)
    sort = data.get("sort")
    if sort == "unit":
        measures = measures.order_by("unit__position", "unit__name", "document", "position")
    elif sort:
        field = F(sort.lstrip("-"))
        order = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
        measures = measures.order_by(order, "document", "position")
    return measures


def querystring(params, **overrides):
    merged = {k: v for k, v in params.items() if v not in ("", None)}
    merged.update({k: v for k, v in overrides.items()})
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


@require_GET
@login_required
@vary_on_headers("HX-Request")
def measure_list(request):
    today = timezone.localdate()
    form = FilterForm(request.GET)
    measures = filtered_measures(form, today)
    page = Paginator(measures, settings.LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    params = {k: v for k, v in request.GET.items() if k != "page"}
    context = {
        "form": form,
        "page": page,
        "today": today,
        "params": querystring(params),
        "prev_query": querystring(params, page=page.previous_page_number())
        if page.has_previous()
        else "",
        "next_query": querystring(params, page=page.next_page_number()) if page.has_next() else "",
        "first_index": page.start_index(),
        "bulk_form": BulkForm() if request.user.is_supervisor else None,
        "selectable": request.user.is_supervisor,
        "current_url": request.get_full_path(),
    }
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


@require_http_methods(["GET", "POST"])
@login_required
def measure_edit(request, pk):
    """Inline edit of a ledger row: GET gives the edit row, POST saves and gives the row."""
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    allowed = request.user.editable_fields(measure)
    if not allowed:
        raise PermissionDenied("您无权修改此事项。")
    if request.method == "GET":
        if not is_fragment_request(request):
            return redirect("measure_detail", pk=pk)
        form = MeasureEditForm(
            instance=measure, user=request.user, initial={"version": measure.version}
        )
        return render(
            request, "tracker/measure_list.html#edit_row", row_context(request, measure, form=form)
        )

    submitted = {name for name in Measure.SUPERVISOR_FIELDS if name in request.POST}
    if submitted - set(allowed):
        raise PermissionDenied("您无权修改这些字段：" + "、".join(sorted(submitted - set(allowed))))
    form = MeasureEditForm(request.POST, instance=measure, user=request.user, submitted=submitted)
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
            response = render_measure_fragment(request, pk, fragment)
            if changes:
                trigger_client_event(response, MEASURE_UPDATED, {"id": pk})
            return response

    # Invalid or conflicting: nothing was saved; show why next to the fields (status 200 so htmx swaps).
    measure = ledger_row(pk)
    if conflict:
        form = conflict_form(request, measure, form, allowed)
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


def conflict_form(request, measure, stale_form, allowed):
    """A form on the current version that still carries what the person typed."""
    data = request.POST.copy()
    data["version"] = measure.version
    form = MeasureEditForm(
        data, instance=measure, user=request.user, submitted=set(stale_form.fields) - {"version"}
    )
    form.is_valid()
    return form


def render_measure_fragment(request, pk, fragment):
    measure = ledger_row(pk)
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
        for error in form.errors.values():
            messages.error(request, "；".join(error))
        return HttpResponseRedirect(back)
    changes = form.changes()
    with transaction.atomic():
        for measure in form.cleaned_data["ids"]:
            measure.edit(request.user, changes, measure.version, note="批量修改")
    count = len(form.cleaned_data["ids"])
    if not request.htmx:
        messages.success(request, f"已批量修改 {count} 项。")
        return HttpResponseRedirect(back)
    response = render(request, "tracker/measure_list.html#bulk_done", {"count": count})
    trigger_client_event(response, MEASURE_UPDATED, {"count": count})
    return response


@require_POST
@login_required
@supervisor_required
def measure_archive(request, pk):
    measure = get_object_or_404(Measure.objects.active(), pk=pk)
    with transaction.atomic():
        Measure.objects.filter(pk=pk).update(
            archived_at=timezone.now(), version=measure.version + 1
        )
        Change.objects.create(
            measure=measure,
            user=request.user,
            field="archived",
            new="已归档",
            version=measure.version + 1,
        )
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
        "section_path": measure.section.path,
        "progress_updates": measure.progress_updates.select_related("author"),
        "changes": measure.changes.select_related("user"),
        "can_report": user.can_report_progress(measure),
        "edit_form": None,
        "progress_form": ProgressForm() if user.can_report_progress(measure) else None,
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
    measure = get_object_or_404(
        Measure.objects.select_related("document", "section", "unit", "owner").prefetch_related(
            "co_units", "topics"
        ),
        pk=pk,
    )
    template = "tracker/measure_detail.html"
    if is_fragment_request(request) and request.htmx.target == "history":
        template += "#history"
    return render(request, template, detail_context(request, measure))


@require_POST
@login_required
def measure_progress(request, pk):
    measure = get_object_or_404(
        Measure.objects.active().select_related("document", "section"), pk=pk
    )
    if not request.user.can_report_progress(measure):
        raise PermissionDenied("您无权为此事项填报进展。")
    form = ProgressForm(request.POST)
    if form.is_valid():
        measure.report_progress(request.user, **form.cleaned_data)
        if not request.htmx:
            messages.success(request, "进展已记录。")
            return redirect("measure_detail", pk=pk)
        measure.refresh_from_db()
        response = render(
            request,
            "tracker/measure_detail.html#journal",
            detail_context(request, measure, progress_form=ProgressForm()),
        )
        trigger_client_event(response, MEASURE_UPDATED, {"id": pk})
        return response
    template = "tracker/measure_detail.html" + ("#journal" if request.htmx else "")
    return render(request, template, detail_context(request, measure, progress_form=form))


# Personal and supervisor views --------------------------------------------------------


@require_GET
@login_required
def my_measures(request):
    today = timezone.localdate()
    soon = today + timezone.timedelta(days=settings.DUE_SOON_DAYS)
    open_q = ~Q(status__in=Measure.CLOSED_STATUSES)
    measures = (
        Measure.objects.active()
        .for_ledger()
        .filter(owner=request.user)
        .annotate(
            bucket=Case(
                When(open_q & Q(deadline__lt=today), then=Value(0)),
                When(open_q & Q(deadline__lte=soon), then=Value(1)),
                When(open_q, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("bucket", "deadline", "document", "position")
    )
    return render(
        request,
        "tracker/my_measures.html",
        {"measures": measures, "today": today, "current_url": request.get_full_path()},
    )


def dashboard_context(today):
    active = Measure.objects.active()
    totals = active.aggregate(
        open=Count("pk", filter=~Q(status__in=Measure.CLOSED_STATUSES)),
        overdue=Count("pk", filter=~Q(status__in=Measure.CLOSED_STATUSES) & Q(deadline__lt=today)),
        soon=Count(
            "pk",
            filter=~Q(status__in=Measure.CLOSED_STATUSES)
            & Q(
                deadline__gte=today,
                deadline__lte=today + timezone.timedelta(days=settings.DUE_SOON_DAYS),
            ),
        ),
        done=Count("pk", filter=Q(status=Measure.Status.DONE)),
    )
    overdue = active.overdue(today)
    by_unit = (
        overdue.values("unit", "unit__name").annotate(n=Count("pk")).order_by("-n", "unit__name")
    )
    by_owner = (
        overdue.values("owner", "owner__name", "owner__username")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    by_topic = (
        Topic.objects.filter(measures__in=overdue)
        .annotate(n=Count("measures"))
        .order_by("-n", "name")
    )
    return {
        "totals": totals,
        "charts": [
            bar_chart(
                "按牵头单位",
                [(r["unit__name"] or "未指定", r["n"], {"unit": r["unit"] or ""}) for r in by_unit],
            ),
            bar_chart(
                "按责任人",
                [
                    (
                        r["owner__name"] or r["owner__username"] or "未指定",
                        r["n"],
                        {"owner": r["owner"] or ""},
                    )
                    for r in by_owner
                ],
            ),
            bar_chart("按领域", [(t.name, t.n, {"topic": t.pk}) for t in by_topic]),
        ],
        "overdue_list": overdue.for_ledger().order_by("deadline", "document", "position"),
        "today": today,
        "due_soon_days": settings.DUE_SOON_DAYS,
    }


BAR_HEIGHT = 24
LABEL_WIDTH = 150
CHART_WIDTH = 460


def bar_chart(title, rows):
    """Server-rendered horizontal bars: coordinates computed here, drawn by the template."""
    top = max((n for _, n, _ in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 40
    bars = []
    for index, (label, n, filters) in enumerate(rows[:12]):
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
    context = dashboard_context(timezone.localdate())
    context["current_url"] = request.get_full_path()
    template = "tracker/overdue.html"
    if is_fragment_request(request) and request.htmx.target == "dashboard-summary":
        template += "#summary"
    return render(request, template, context)


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
    measures = list(document.measures.active().order_by("source_start"))
    counts = Counter(r["kind"] for r in document.repairs)
    return render(
        request,
        "tracker/document_detail.html",
        {
            "document": document,
            "segments": highlight_segments(document.clean_text, measures),
            "sections": document.sections.filter(archived_at__isnull=True),
            "measures": measures,
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


@require_POST
@login_required
@supervisor_required
def document_upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要导入的文件。")
        return redirect("document_list")
    upload = form.cleaned_data["file"]
    name = Path(upload.name).name
    if upload.size > settings.IMPORT_MAX_BYTES:
        messages.error(request, f"{name}: 文件超过 5 MB / file larger than 5 MB")
        return redirect("document_list")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        result = import_file(path, source=f"upload/{name}")
    if result.outcome == "error":
        messages.error(request, result.error)
        return redirect("document_list")
    document = Document.objects.get(source=result.parsed.source)
    messages.success(
        request, f"已导入《{document.title}》：{result.measures} 项（新建 {result.created}）。"
    )
    return redirect("document_detail", pk=document.pk)
