"""Replay the audit's bad inputs (issue 8) and print what each costs to refuse or handle.

Cases: a compact 3-million-row .xlsx (about 1.3 MB), a 100,000-row .xlsx, huge integers in an
import sheet, control characters in an export, an inflating .docx (about 6 M characters of
text in about 100 KB) and a .docx whose document.xml unpacks to hundreds of megabytes. The
baseline, measured in the same run, is reading and planning a normal 50-row 台账 sheet.

Each case runs in a fresh subprocess, so its peak RSS is its own: the input is built here
first and handed over as a file; the child sets Django up, reads the file, then measures.
Time and RSS (the peak during the case, VmHWM reset just before it, less the RSS at its
start) come from one run; the traced Python peak (tracemalloc) from a second run,
because tracing slows the code down. Target: every case under 2 s and 200 MB.
Run: `TESTING=1 .venv/bin/python bench/bad_inputs.py`.
"""

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(os.environ.get("BAD_INPUTS_DIR") or tempfile.mkdtemp(prefix="bad-inputs-"))
os.environ["BAD_INPUTS_DIR"] = str(WORK)
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("TESTING", "1")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

import warnings  # noqa: E402

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from tracker import spreadsheets  # noqa: E402
from tracker.models import Document, Measure, ProgressUpdate, Section, Unit, User  # noqa: E402
from tracker.pipeline.read import decode  # noqa: E402

LIMIT_SECONDS = 2.0
LIMIT_MB = 200
CONTROL = "\x0b\x0c\x01\x1f"
HUGE = 99999999999999999999
MB = 2**20


# Inputs -----------------------------------------------------------------------------------


def build_database():
    call_command("migrate", verbosity=0)
    groups = {name: Group.objects.create(name=name) for name in User.ROLES}
    unit = Unit.objects.create(name="社会救助司", position=0)
    supervisor = User.objects.create_user("ducha", password="x", name="王督查", unit=unit)
    supervisor.groups.add(groups[User.SUPERVISOR])
    text = "一是健全低保动态管理机制。"
    document = Document.objects.create(
        source="bench.txt", sha256="0" * 64, title="工作方案", raw_text=text, clean_text=text
    )
    section = Section.objects.create(
        document=document, kind="heading", title="重点任务", path="重点任务", position=1
    )
    for position in range(55):
        hostile = position < 5  # the export case: control characters in titles and notes
        measure = Measure.objects.create(
            document=document,
            section=section,
            position=position,
            fingerprint=f"fp{position}",
            title=f"事项{position}{CONTROL if hostile else ''}",
            text=text,
            unit=unit,
            owner=supervisor,
        )
        ProgressUpdate.objects.create(
            measure=measure,
            author=supervisor,
            progress=f"进展{CONTROL}" if hostile else "进展顺利",
            percent=10,
        )


def workbook_zip(sheet_chunks, path):
    """A minimal .xlsx written as a zip, streaming the sheet XML from `sheet_chunks`."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{types}.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook {ns} xmlns:r="{rel}"><sheets>'
            '<sheet name="督办台账" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f"<worksheet {ns}><sheetData>".encode())
            for chunk in sheet_chunks:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row():
    labels = ["序号", "责任领导/牵头单位", "责任人", "完成时限", "状态", "版本"]
    return (
        '<row r="1">'
        + "".join(inline(f"{c}1", t) for c, t in zip("ABCDEF", labels, strict=True))
        + "</row>"
    )


def compact_rows(count, batch=20_000):
    """The audit's compact rows: one inline-string cell each, every 8th row numbered (the
    others follow on implicitly), which makes 3 M rows about 1.3 MB."""
    yield header_row()
    cell = '<c t="inlineStr"><is><t>x</t></is></c>'
    for start in range(2, count + 2, batch):
        yield "".join(
            f'<row r="{n}">{cell}</row>' if n % 8 == 0 else f"<row>{cell}</row>"
            for n in range(start, min(start + batch, count + 2))
        )


def ledger_rows(count, batch=10_000):
    """Rows shaped like an edited 台账: every imported column filled."""
    yield header_row()
    for start in range(2, count + 2, batch):
        yield "".join(
            f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>{inline(f"B{n}", "社会救助司")}'
            f"{inline(f'C{n}', '王督查')}{inline(f'D{n}', '2026-12-31')}"
            f'{inline(f"E{n}", "推进中")}<c r="F{n}"><v>1</v></c></row>'
            for n in range(start, min(start + batch, count + 2))
        )


def huge_numbers_sheet(path):
    """The normal export with 序号 99999999999999999999 and out-of-range numbers elsewhere."""
    workbook = load_workbook(WORK / "baseline.xlsx")
    sheet = workbook.active
    for row in range(3, 13):
        sheet.cell(row, 1).value = HUGE
    for column in (4, 6, 7, 8, 13):  # unit, owner, deadline, status, version
        sheet.cell(13, column).value = 1e308
    workbook.save(path)


def docx_zip(path, body_chunks):
    """A minimal .docx whose word/document.xml streams from `body_chunks`."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        with archive.open("word/document.xml", "w", force_zip64=True) as body:
            body.write(f"<w:document {ns}><w:body>".encode())
            for chunk in body_chunks:
                body.write(chunk.encode())
            body.write(b"</w:body></w:document>")


def paragraphs(characters, per_paragraph=3_000):
    """About `characters` characters of plausible text in long paragraphs (few tags)."""
    sentence = "一是健全低保动态管理机制，按季度开展入户核查，确保应保尽保。"  # 30 characters
    text = sentence * (per_paragraph // len(sentence))
    for n in range(characters // per_paragraph):
        yield f"<w:p><w:r><w:t>（{n}）{text}</w:t></w:r></w:p>"


def build_inputs():
    build_database()
    measures = Measure.objects.order_by("pk")
    normal = measures.filter(position__gte=5)  # 50 rows
    xlsx = spreadsheets.export_xlsx(normal, today=date(2026, 11, 22), title="督办事项台账")
    (WORK / "baseline.xlsx").write_bytes(xlsx)
    workbook_zip(compact_rows(3_000_000), WORK / "compact-3m.xlsx")
    workbook_zip(ledger_rows(100_000), WORK / "rows-100k.xlsx")
    huge_numbers_sheet(WORK / "huge-numbers.xlsx")
    docx_zip(WORK / "inflating.docx", paragraphs(6_000_000))
    docx_zip(
        WORK / "bomb.docx", ("<w:p><w:r><w:t>" + "啊" * 1_000_000 + "</w:t></w:r></w:p>",) * 150
    )


# Cases (run in the child) -----------------------------------------------------------------


def read_and_plan(name):
    user = User.objects.get(username="ducha")

    def run():
        with open(WORK / name, "rb") as upload:
            rows = spreadsheets.read_sheet(io.BytesIO(upload.read()))
        plan = spreadsheets.plan_import(rows, user)
        return f"{len(rows)} rows read, {len(plan.errors)} row errors"

    return run


def read_docx(name):
    raw = (WORK / name).read_bytes()
    return lambda: f"{len(decode(raw, 'x.docx')):,} characters imported"


def export():
    client = Client()
    client.force_login(User.objects.get(username="ducha"))

    def run():
        statuses = [client.get(f"/measures/export.{fmt}").status_code for fmt in ("xlsx", "csv")]
        return "xlsx " + " / csv ".join(map(str, statuses))

    return run


CASES = {
    "baseline: normal 50-row sheet": ("baseline.xlsx", read_and_plan),
    "compact 3 M-row xlsx": ("compact-3m.xlsx", read_and_plan),
    "100,000-row xlsx": ("rows-100k.xlsx", read_and_plan),
    "huge integers in import sheet": ("huge-numbers.xlsx", read_and_plan),
    "control characters in export": (None, lambda _: export()),
    "inflating docx (6 M chars)": ("inflating.docx", read_docx),
    "docx declaring 450 MB unpacked": ("bomb.docx", read_docx),
}


def outcome(run):
    try:
        return "handled: " + run()
    except Exception as error:
        return f"refused: {type(error).__name__}: {error}"


def reset_peak_rss():
    """Start the peak (VmHWM) afresh where Linux allows it; True when it did."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mb(field):
    """VmRSS (now) or VmHWM (peak) in MB; the peak falls back to getrusage's maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child(case):
    name, make = CASES[case]
    run = make(name)
    reset_peak_rss()
    before = rss_mb("VmRSS")
    started = time.perf_counter()
    result = outcome(run)
    seconds = time.perf_counter() - started
    peak_rss = rss_mb("VmHWM")
    tracemalloc.start()
    outcome(run)
    traced = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "result": result,
                "seconds": seconds,
                "rss_delta": peak_rss - before,
                "rss_peak": peak_rss,
                "traced": traced,
            }
        )
    )


def main():
    build_inputs()
    print(f"inputs in {WORK}:")
    for path in sorted(WORK.glob("*.*x")):
        print(f"  {path.name:20} {path.stat().st_size / 1024:9,.0f} KB on disk")
    results = {}
    for case in CASES:
        done = subprocess.run(
            [sys.executable, __file__, "--case", case], capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"{case} failed:\n{done.stderr}")
        results[case] = json.loads(done.stdout.strip().splitlines()[-1])
    baseline = results["baseline: normal 50-row sheet"]["seconds"]
    print()
    print(
        f"{'case':32} {'time':>9} {'× base':>7} {'RSS Δ':>8} {'RSS peak':>9} "
        f"{'traced':>8}  ok  outcome"
    )
    failures = 0
    for case, r in results.items():
        ok = r["seconds"] < LIMIT_SECONDS and r["rss_delta"] < LIMIT_MB and r["traced"] < LIMIT_MB
        failures += not ok
        print(
            f"{case:32} {r['seconds'] * 1000:7.0f}ms {r['seconds'] / baseline:6.1f}× "
            f"{r['rss_delta']:6.1f}MB {r['rss_peak']:7.1f}MB {r['traced']:6.1f}MB  "
            f"{'✓' if ok else '✗'}   {r['result'][:110]}"
        )
    print(f"\nlimits: {LIMIT_SECONDS:.0f} s and {LIMIT_MB} MB per case; {failures} over.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--case"]:
        child(sys.argv[2])
    else:
        main()
