"""Access and sessions (issue 8): login throttling, private caching, idle timeout, the
production settings, and `load_demo` never writing over staff edits."""

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from axes.utils import reset
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tracker.middleware import LAST_SEEN
from tracker.models import Attachment, Measure, User

from .conftest import HTMX, client_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def attempt(client, username, password, url=LOGIN, ip="127.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def is_signed_in(client):
    return "_auth_user_id" in client.session


def fail_five_times(client, username, url=LOGIN, ip="127.0.0.1"):
    statuses = [attempt(client, username, "wrong-password", url, ip).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the form with its error; the fifth locks
    assert not is_signed_in(client)


# Login throttling (django-axes) ----------------------------------------------------------


def test_the_right_password_after_five_wrong_ones_is_locked_out_in_chinese(client, supervisor):
    fail_five_times(client, "ducha")
    response = attempt(client, "ducha", "pw-ducha")
    assert response.status_code == 429
    page = response.content.decode()
    assert "登录已暂停" in page and "15 分钟" in page
    assert "督查员" in page and "管理员" in page
    assert not is_signed_in(client)


def test_four_wrong_passwords_do_not_lock_and_a_success_clears_them(client, supervisor):
    for _ in range(4):
        attempt(client, "ducha", "wrong-password")
    assert attempt(client, "ducha", "pw-ducha").status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "ducha", "wrong-password")
    assert attempt(client, "ducha", "pw-ducha").status_code == 302


def test_the_lockout_is_per_user_and_address(client, supervisor, staff):
    fail_five_times(client, "ducha")
    assert attempt(Client(), "ducha", "pw-ducha", ip="10.0.0.9").status_code == 302
    assert attempt(Client(), "zhangmin", "pw-zhangmin").status_code == 302
    assert attempt(Client(), "ducha", "pw-ducha").status_code == 429


def test_the_lockout_ends_after_15_minutes(client, supervisor, settings):
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    fail_five_times(client, "ducha")
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(Client(), "ducha", "pw-ducha").status_code == 302


def test_resetting_the_user_unlocks_the_login(client, supervisor):
    fail_five_times(client, "ducha")
    assert attempt(client, "ducha", "pw-ducha").status_code == 429
    reset(username="ducha")
    assert attempt(client, "ducha", "pw-ducha").status_code == 302
    assert is_signed_in(client)


def test_a_supervisor_sees_the_lockout_and_lifts_it(client, supervisor, staff):
    fail_five_times(Client(), "zhangmin")
    page = client_for(supervisor).get("/units/").content.decode()
    assert 'id="lockouts"' in page and "zhangmin" in page
    response = client_for(supervisor).post("/units/unlock/", {"username": "zhangmin"})
    assert response.status_code == 302
    assert attempt(client, "zhangmin", "pw-zhangmin").status_code == 302
    assert "当前没有被锁定的账号" in client_for(supervisor).get("/units/").content.decode()


def test_staff_cannot_lift_a_lockout(client, supervisor, staff):
    fail_five_times(Client(), "ducha")
    assert client_for(staff).post("/units/unlock/", {"username": "ducha"}).status_code == 403
    assert attempt(client, "ducha", "pw-ducha").status_code == 429


def test_unlocking_needs_a_user_name_and_a_post(supervisor):
    browser = client_for(supervisor)
    assert browser.get("/units/unlock/").status_code == 405
    response = browser.post("/units/unlock/", {"username": ""}, follow=True)
    assert "请填写要解除锁定的用户名" in response.content.decode()


def test_the_admin_login_is_throttled_too(client, supervisor):
    supervisor.is_staff = True
    supervisor.save()
    fail_five_times(client, "ducha", url=ADMIN_LOGIN)
    response = attempt(client, "ducha", "pw-ducha", url=ADMIN_LOGIN)
    assert response.status_code == 429 and "登录已暂停" in response.content.decode()
    # One lockout for the pair, whichever form it came through.
    assert attempt(Client(), "ducha", "pw-ducha").status_code == 429


def test_behind_a_proxy_the_lockout_uses_the_forwarded_address(client, supervisor, settings):
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": "ducha", "password": "x"},
            HTTP_X_FORWARDED_FOR="203.0.113.5",
            **proxy,
        )
    other = Client().post(
        LOGIN,
        {"username": "ducha", "password": "pw-ducha"},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxy,
    )
    assert other.status_code == 302  # another client behind the same proxy


# Cache-Control ----------------------------------------------------------------------------


def test_every_response_to_a_signed_in_user_is_private_and_not_stored(
    staff, measure, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = client_for(staff)
    evidence = SimpleUploadedFile("完成报告.pdf", PDF, content_type="application/pdf")
    client.post(
        reverse("closure_request", args=[measure.pk]),
        {"summary": "已全部完成", "files": [evidence]},
        **HTMX,
    )
    attachment = Attachment.objects.get()
    responses = {
        "page": client.get("/measures/"),
        "htmx fragment": client.get(reverse("measure_row", args=[measure.pk]), **HTMX),
        "xlsx export": client.get("/measures/export.xlsx"),
        "csv export": client.get("/measures/export.csv"),
        "attachment": client.get(reverse("attachment_download", args=[attachment.pk])),
        "report": client.get("/reports/monthly/?month=2026-11&format=xlsx"),
        "redirect": client.get("/"),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 302), name
        assert response["Cache-Control"] == "private, no-store", name


# Idle timeout -----------------------------------------------------------------------------


def idle_for(client, seconds):
    """Pretend the client's last request was `seconds` ago."""
    session = client.session
    session[LAST_SEEN] = int(time.time()) - seconds
    session.save()


def test_a_request_after_the_idle_time_goes_to_the_login_page(staff, settings):
    client = client_for(staff)
    assert client.get("/my/").status_code == 200
    idle_for(client, settings.SESSION_IDLE_MINUTES * 60 + 1)
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not is_signed_in(client)
    assert client.get("/my/").status_code == 302  # and it stays signed out


def test_a_request_within_the_idle_time_stays_signed_in_and_renews_it(staff, settings):
    client = client_for(staff)
    client.get("/my/")
    idle_for(client, settings.SESSION_IDLE_MINUTES * 60 - 60)
    assert client.get("/my/").status_code == 200
    assert int(time.time()) - client.session[LAST_SEEN] < 5
    stored = Session.objects.get(session_key=client.session.session_key)
    remaining = (stored.expire_date - timezone.now()).total_seconds()
    assert remaining > settings.SESSION_IDLE_MINUTES * 60


def test_the_inbox_badge_polling_does_not_keep_an_idle_session_alive(staff, settings):
    client = client_for(staff)
    client.get("/my/")
    idle_for(client, 600)
    badge = {**HTMX, "HTTP_HX_TRIGGER": "inbox-badge", "HTTP_HX_TARGET": "inbox-badge"}
    assert client.get("/inbox/", **badge).status_code == 200
    assert int(time.time()) - client.session[LAST_SEEN] >= 600  # not renewed
    client.get("/my/")  # a person's request is
    assert int(time.time()) - client.session[LAST_SEEN] < 5


def test_an_htmx_request_after_the_idle_time_sends_the_whole_page_to_login(staff, settings):
    client = client_for(staff)
    client.get("/my/")
    idle_for(client, settings.SESSION_IDLE_MINUTES * 60 + 1)
    response = client.get(
        "/inbox/",
        HTTP_HX_TARGET="inbox-badge",
        HTTP_HX_CURRENT_URL="http://testserver/measures/?q=x",
        **HTMX,
    )
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"{LOGIN}?next=/measures/"


def test_the_idle_time_defaults_to_120_minutes():
    # In a clean environment, so that a SESSION_IDLE_MINUTES set here cannot skip the check.
    shown = settings_under({"DEBUG": "1"})
    assert shown["SESSION_IDLE_MINUTES"] == 120
    assert shown["SESSION_COOKIE_AGE"] >= 120 * 60


# Settings from the environment -----------------------------------------------------------

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "HTTPS": "1",
    "ALLOWED_HOSTS": "ducha.example.gov.cn",
}
SHOWN = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_IDLE_MINUTES",
    "SESSION_COOKIE_AGE",
]


def run_with(environment, *args):
    """Run Python in a clean environment (only PATH and `environment`) from the project."""
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    env.update(environment)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def settings_under(environment):
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {SHOWN!r}}}))"
    )
    result = run_with(environment, "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = run_with(PRODUCTION, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_https_turns_on_the_redirect_secure_cookies_and_hsts():
    assert settings_under(PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_IDLE_MINUTES": 120,
        "SESSION_COOKIE_AGE": 120 * 60 + 60,
    }


def test_without_https_nothing_redirects_and_the_idle_time_is_configurable():
    shown = settings_under({"DEBUG": "1", "SESSION_IDLE_MINUTES": "30"})
    assert not shown["SECURE_SSL_REDIRECT"] and shown["SECURE_HSTS_SECONDS"] == 0
    assert not shown["SESSION_COOKIE_SECURE"] and not shown["CSRF_COOKIE_SECURE"]
    assert shown["SESSION_IDLE_MINUTES"] == 30 and shown["SESSION_COOKIE_AGE"] == 30 * 60 + 60


# Demo data (make run) --------------------------------------------------------------------


def test_load_demo_loads_into_an_empty_database_then_skips_and_keeps_edits():
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "已加载演示数据" in out.getvalue()
    assert User.objects.filter(username="ducha").exists()
    measure = Measure.objects.order_by("pk").first()
    Measure.objects.filter(pk=measure.pk).update(title="督查员改过的标题")

    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "跳过演示数据" in out.getvalue() and "已有" in out.getvalue()
    assert Measure.objects.get(pk=measure.pk).title == "督查员改过的标题"


def test_load_demo_skips_a_database_that_has_users(supervisor):
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "跳过演示数据" in out.getvalue()
    assert not Measure.objects.exists()


def test_make_run_loads_the_demo_only_into_an_empty_database_and_prints_the_real_password():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "load_demo" in run and "loaddata" not in run
    assert "demo2026" in run and "demo-ducha-2026" not in makefile
    assert "`demo2026`" in (ROOT / "README.md").read_text()
