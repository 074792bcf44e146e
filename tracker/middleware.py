import time

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
            elif last_seen is None or now - last_seen >= settings.SESSION_ACTIVITY_SAVE_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


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
