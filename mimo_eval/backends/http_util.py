"""HTTP helpers of the openai backend: a proxy-aware opener per server, Retry-After, a server's error message."""
from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def opener(url: str) -> urllib.request.OpenerDirector:
    # Loopback never goes through an environment proxy; other hosts keep the user's proxy settings.
    host = urllib.parse.urlsplit(url).hostname or ""
    return urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if host in LOOPBACK else []))


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_detail(error: urllib.error.HTTPError) -> str:
    try:
        raw = error.read()[:500].decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return error.reason or ""
    try:
        message = json.loads(raw).get("error", raw)
        message = message.get("message", message) if isinstance(message, dict) else message
    except (ValueError, AttributeError):
        message = raw
    return " ".join(str(message).split())[:200]
