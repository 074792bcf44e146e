import time
from urllib.parse import quote, urlsplit

from . import freshness

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class DataVersionMiddleware:
    """Reads the data version (tracker/freshness.py) before anything a page shows, the
    signed-in user included: a page stored under that version is then drawn from data at
    least that new. Only GET and HEAD requests are ever served from the store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            request.data_version = freshness.current_version()
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """No inline script or style anywhere: an injected payload has nothing to run with."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response


class PrivateCacheMiddleware:
    """Nothing shown to a signed-in person is kept by a browser or proxy cache.

    Pages, htmx fragments, exports and evidence downloads all carry `private, no-store`, so
    the back button after logout or a shared proxy never shows the ledger to someone else.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = "private, no-store"
        return response


LAST_SEEN = "last_seen"


class SessionIdleTimeoutMiddleware:
    """Log out after SESSION_IDLE_MINUTES without a request.

    The time of the last request is kept in the session, written at most once per
    SESSION_ACTIVITY_SAVE_SECONDS (so reading pages does not write the database each time).
    Each write also renews the stored session and the cookie (SESSION_COOKIE_AGE).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.contrib.auth import logout

        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)  # the view then treats the request as anonymous
            elif is_background(request):
                pass  # the badge's own polling is not a person at the desk
            elif last_seen is None or now - last_seen >= settings.SESSION_ACTIVITY_SAVE_SECONDS:
                request.session[LAST_SEEN] = now
        response = self.get_response(request)
        return to_login_page(request, response)


# Requests a page makes by itself (htmx's HX-Trigger header names the element): they keep
# the top bar current but are no activity that keeps a session alive.
BACKGROUND_TRIGGERS = {"inbox-badge"}


def is_background(request):
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Trigger") in BACKGROUND_TRIGGERS
    )


def to_login_page(request, response):
    """An htmx request whose session has ended is sent to the login page as a whole page,
    never swapped into the part of the page that asked (a login form inside the badge)."""
    from django.conf import settings
    from django.shortcuts import resolve_url
    from django_htmx.http import HttpResponseClientRedirect

    if request.headers.get("HX-Request") != "true" or response.status_code != 302:
        return response
    login = resolve_url(settings.LOGIN_URL)
    if not response["Location"].startswith(login):
        return response
    current = request.headers.get("HX-Current-URL", "")
    return HttpResponseClientRedirect(f"{login}?next={quote(urlsplit(current).path or '/')}")


def client_ip(request):
    """The client's address for django-axes: REMOTE_ADDR, or behind PROXY_COUNT proxies the
    address the outermost trusted proxy saw (counted from the right of X-Forwarded-For, the
    part a client cannot forge)."""
    from django.conf import settings

    proxies = settings.PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
