import os
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import sync_playwright

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_000 = SEEDS / "000_90dd44bec823a6a6.txt"
SEED_003 = SEEDS / "003_5f2d55c2c4facbfb.txt"
TODAY = date(2026, 11, 22)

# A small plan in the shape real documents take: numbered headings, enumerated items,
# and the commentary that must never become a measure.
SMALL_PLAN = """关于做好2026年养老服务工作的实施方案
一、加强养老服务体系建设
民心是最大的政治。一是完善居家社区养老服务网络,2026年底前实现街道综合养老服务中心全覆盖。二是推进特困人员供养服务设施改造提升。三是加强养老服务人才队伍建设。
二、做好社会救助兜底保障
一是健全低保动态管理机制,6月底前完成年度复核。二是规范临时救助审批,推行“一门受理、协同办理”。
"""


@pytest.fixture
def seed_000_bytes():
    return SEED_000.read_bytes()


@pytest.fixture
def seed_003_bytes():
    return SEED_003.read_bytes()


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_text(SMALL_PLAN, encoding="utf-8")
    return path


# Small explicit ledger for the web tests -------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def groups(db):
    from django.contrib.auth.models import Group

    from tracker.models import User

    return {name: Group.objects.get_or_create(name=name)[0] for name in User.ROLES}


@pytest.fixture
def units(db):
    from tracker.models import Unit

    office = Unit.objects.create(name="办公厅", position=0)
    return {
        "office": office,
        "aid": Unit.objects.create(name="社会救助司", position=1),
        "care": Unit.objects.create(name="养老服务司", position=2),
    }


def make_user(username, role, unit, groups):
    from tracker.models import User

    user = User.objects.create_user(
        username=username, password="pw-" + username, name=username.title()
    )
    user.unit = unit
    user.save()
    if role:
        user.groups.add(groups[role])
    return user


@pytest.fixture
def supervisor(groups, units):
    return make_user("ducha", "督查员", units["office"], groups)


@pytest.fixture
def staff(groups, units):
    """责任人 of 社会救助司."""
    return make_user("zhangmin", "责任人", units["aid"], groups)


@pytest.fixture
def other_staff(groups, units):
    """责任人 of 养老服务司: must not touch 社会救助司's measures."""
    return make_user("liuyang", "责任人", units["care"], groups)


@pytest.fixture
def leader(groups, units):
    return make_user("lingdao", "领导", units["office"], groups)


@pytest.fixture
def document(db):
    from tracker.models import Document, Section

    text = "一、做好社会救助\n一是健全低保动态管理机制。二是规范临时救助审批。"
    doc = Document.objects.create(
        source="tests/plan.txt", sha256="0" * 64, title="测试方案", raw_text=text, clean_text=text
    )
    Section.objects.create(
        document=doc,
        kind="heading",
        title="做好社会救助",
        path="做好社会救助",
        position=1,
        text=text,
    )
    return doc


def make_measure(document, position, title, **fields):
    from tracker.models import Measure

    text = fields.pop("text", f"{title}。")
    start = document.clean_text.find(text)
    return Measure.objects.create(
        document=document,
        section=document.sections.first(),
        position=position,
        fingerprint=f"fp-{position}",
        title=title,
        text=text,
        source_start=max(start, 0),
        source_end=max(start, 0) + len(text) if start >= 0 else 0,
        **fields,
    )


def count_queries(client, url):
    """Queries one GET of `url` costs (it must answer 200)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def grow_ledger(document, units, owner, total, each=lambda i: {}):
    """Bulk-add measures until there are `total`: owned by `owner`, spread over the units,
    deadlines around TODAY; `each(i)` overrides fields of the i-th. Returns the new ones."""
    from datetime import timedelta

    from tracker.models import Measure

    start = Measure.objects.count()
    unit_list = list(units.values())
    return Measure.objects.bulk_create(
        Measure(
            **{
                "document": document,
                "section": document.sections.first(),
                "position": 100 + i,
                "fingerprint": f"grow-{i}",
                "title": f"事项{i}",
                "text": f"事项{i}。",
                "unit": unit_list[i % len(unit_list)],
                "owner": owner,
                "deadline": TODAY + timedelta(days=(i % 40) - 20),
                **each(i),
            }
        )
        for i in range(start, total)
    )


@pytest.fixture
def measure(document, units, staff):
    """Overdue, led by 社会救助司, owned by staff."""
    return make_measure(
        document,
        1,
        "健全低保动态管理机制",
        text="一是健全低保动态管理机制。",
        unit=units["aid"],
        owner=staff,
        deadline=date(2026, 10, 31),
    )


@pytest.fixture
def care_measure(document, units, other_staff):
    return make_measure(
        document,
        2,
        "规范临时救助审批",
        text="二是规范临时救助审批。",
        unit=units["care"],
        owner=other_staff,
    )


@pytest.fixture
def freeze_today(monkeypatch):
    """Pin 'today' (Asia/Shanghai) to TODAY for views and querysets."""
    from django.utils import timezone

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        # Only "today" is pinned; converting a given timestamp still works as usual.
        return TODAY if value is None else real(value, timezone)

    monkeypatch.setattr(timezone, "localdate", localdate)
    return TODAY


# Browser tests: Playwright driving Debian's Chromium, shared by every tests/test_browser_*.py.

# Playwright's sync API runs an event loop in this thread; the ORM calls in these tests are
# still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
README_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: the README's folder with `make screenshots`, else a temp dir,
    so an ordinary test run leaves the work tree as it found it."""
    folder = README_SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    contexts = []

    def open_page(user, password=None, javascript=True):
        context = browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN", java_script_enabled=javascript
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password or f"pw-{user.username}")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            settle(page)
        context.close()


def settle(page):
    """Let the page's htmx requests finish before the test ends: one still running on the
    live server while the database is flushed locks its tables (SQLite's shared-cache test
    database) and fails, or hangs, the next test. A swap may start more (measureUpdated
    refreshes the badge and the history), hence twice."""
    from playwright.sync_api import Error

    try:
        for _ in range(2):
            page.wait_for_timeout(150)
            page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=5000)
    except Error:
        pass  # a page without JavaScript runs no htmx requests


def mark_page(page):
    """A flag that only survives if the page is never reloaded."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page):
    assert page.evaluate("window.__noReload === true")
