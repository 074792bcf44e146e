import json
from io import StringIO

import pytest

from tracker.models import Measure, User

from .test_browser import browser, open_page  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METRICS = """() => {
  const rows = [...document.querySelectorAll('#ledger tbody tr[id^=measure-], table.ledger tbody tr[id^=measure-]')];
  const bulk = document.querySelector('#bulk-form');
  const bulkTop = bulk ? bulk.getBoundingClientRect().top : innerHeight;
  return {
    scrollWidth: document.documentElement.scrollWidth,
    rows: rows.length,
    within: rows.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length,
    aboveBulk: rows.filter(r => r.getBoundingClientRect().bottom <= bulkTop).length,
    firstRowTop: rows.length ? rows[0].getBoundingClientRect().top : null,
    rowHeights: rows.slice(0, 15).map(r => Math.round(r.getBoundingClientRect().height)),
    bulkTop,
    small: [...document.querySelectorAll('.topbar a, .topbar button, .topbar label, main button, main select, main input:not([type=hidden]):not([type=checkbox]), main summary')]
      .filter(e => e.offsetParent !== null)
      .map(e => [e.tagName + '.' + e.className + ':' + (e.textContent||e.name||'').trim().slice(0,8), Math.round(e.getBoundingClientRect().height)])
      .filter(([, h]) => h < 40).slice(0, 30),
    wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 10).map(e => e.tagName + '.' + e.className + '#' + e.id),
  };
}"""


def test_scratch(open_page, live_server, freeze_today):
    from django.core.management import call_command

    call_command("seed_measures", "seeds", stdout=StringIO())
    call_command("loaddata", "demo", verbosity=0)
    measure = Measure.objects.filter(progress_updates__isnull=False, deadline__isnull=False).first()
    out = {}
    for who, pages in {
        "ducha": ["/measures/", "/overdue/", f"/measures/{measure.pk}/", "/inbox/", "/my/"],
        "zhangmin": ["/my/", f"/measures/{measure.pk}/", "/inbox/"],
    }.items():
        page = open_page(User.objects.get(username=who), password="demo2026")
        for width, height in [(1366, 768), (390, 844)]:
            page.set_viewport_size({"width": width, "height": height})
            for path in pages:
                page.goto(f"{live_server.url}{path}")
                page.wait_for_load_state("networkidle")
                name = f"{who}-{width}-{path.strip('/').replace('/', '_') or 'home'}"
                page.screenshot(path=f"/tmp/shots/{name}.png", full_page=width == 390)
                out[name] = page.evaluate(METRICS)
    print(json.dumps(out, ensure_ascii=False, indent=1))
