"""HTTP client shared by the shop adapters: timeouts, bounded retries, clear errors.

* every request has a timeout;
* 429 (and 408/425) is retried honouring ``Retry-After`` (seconds or an HTTP date), at
  most ``max_retries`` times; a wait longer than ``max_wait`` is not slept through: the
  request fails at once with the asked wait in the error's ``retry_after``, so the run
  ends and the next one is scheduled after it (a retry before it would only be refused);
* 5xx, timeouts and dropped connections are retried with bounded exponential backoff
  (only for idempotent requests; a 503's ``Retry-After`` is honoured too), then raise
  :class:`ShopTransientError`;
* other 4xx raise :class:`ShopPermanentError` with the platform's own error message;
* a body that is not valid JSON raises :class:`ShopTransientError` (truncated response).

Every error carries the URL with credentials removed (``error.url``) and the status.
``sleep`` and ``now`` are injectable so tests never really wait.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import requests

from ....mail_crm_shop.services.errors import PermanentError, TransientError
from ....mail_crm_shop.services.urls import redact, safe_url

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# the platform did not process the request: retrying is safe even for a POST
REFUSED_UNPROCESSED = frozenset({408, 425, 429})


class ShopTransientError(TransientError):
    """A retry later may succeed (429 after retries, 5xx, timeout, truncated body);
    ``retry_after``: the seconds the shop asked to wait (``Retry-After``), or None."""

    def __init__(
        self,
        message: str,
        url: str = "",
        status: int | None = None,
        *,
        retry_after: float | None = None,
    ):
        super().__init__(message, retry_after=retry_after)
        self.url = url
        self.status = status


class ShopPermanentError(PermanentError):
    """The platform refused the request (4xx): retrying the same request won't help."""

    def __init__(self, message: str, url: str = "", status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeout and retry bounds of one adapter's HTTP calls."""

    timeout: float = 30.0
    max_retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_wait: float = 120.0


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A successful response: status, headers (case-insensitive) and decoded JSON."""

    status: int
    headers: Mapping[str, str]
    data: Any
    url: str


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def platform_error_message(body: bytes) -> str:
    """The human part of a platform error body (Shopify, WooCommerce, Shopware, SP-API,
    eBay shapes), else the start of the body."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    return _message_from(data) or text[:300]


def _message_from(data: Any) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, list):
        return "; ".join(m for m in (_message_from(item) for item in data) if m)
    if not isinstance(data, dict):
        return ""
    for key in ("longMessage", "message", "detail", "error_description", "title"):
        if isinstance(data.get(key), str) and data[key]:
            code = data.get("code") or data.get("errorId")
            return f"{code}: {data[key]}" if code and key != "title" else data[key]
    errors = data.get("errors") or data.get("error")
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {_message_from(v)}" for k, v in errors.items())
    return _message_from(errors) if errors else ""


class ShopHttpClient:
    """A ``requests.Session`` with the policy above; one per adapter instance."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        session: requests.Session | None = None,
    ):
        self.policy = policy or HttpPolicy()
        self.session = session or requests.Session()
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.session.auth = auth
        self._sleep = sleep
        self._now = now

    def get(self, url: str, **kwargs) -> HttpResult:
        """GET ``url`` and decode its JSON body."""
        return self.request("GET", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expect_json: bool = True,
    ) -> HttpResult:
        """Send one request with the retry policy; return the decoded result.

        ``idempotent`` (default: by method) allows retrying 5xx and connection errors;
        a 429 is always retried since the platform refused the request unprocessed.
        """
        method = method.upper()
        retry_failures = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        send = {"params": params, "json": json_body, "data": data, "headers": headers}
        attempt = 0
        while True:
            shown = safe_url(_with_params(url, params))
            response = self._send(method, url, send, shown, retry_failures, attempt)
            if response is not None:
                shown = safe_url(response.url or shown)
                if not self._must_retry(response, method, shown, retry_failures, attempt):
                    decoded = self._decode(response, method, shown, expect_json)
                    return HttpResult(response.status_code, response.headers, decoded, shown)
            attempt += 1

    def _send(
        self,
        method: str,
        url: str,
        send: Mapping[str, Any],
        shown: str,
        retry_failures: bool,
        attempt: int,
    ) -> requests.Response | None:
        """Send once; ``None`` after a connection failure to retry (backed off already).
        A failure's text never shows the URL's secrets (``requests`` repeats the URL)."""
        sent_url = _with_params(url, send["params"])
        try:
            return self.session.request(
                method,
                url,
                params=send["params"],
                json=send["json"],
                data=send["data"],
                headers=dict(send["headers"] or {}),
                timeout=self.policy.timeout,
            )
        except (
            requests.Timeout,
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
        ) as exc:
            reason = redact(f"{method} {shown}: {type(exc).__name__}: {exc}", sent_url)
            if not retry_failures or attempt >= self.policy.max_retries:
                raise ShopTransientError(reason, shown) from exc
            self._backoff(attempt)
            return None
        except requests.RequestException as exc:
            reason = redact(f"{method} {shown}: {exc}", sent_url)
            raise ShopPermanentError(reason, shown) from exc

    def _must_retry(
        self,
        response: requests.Response,
        method: str,
        shown: str,
        retry_failures: bool,
        attempt: int,
    ) -> bool:
        """Whether to send again (after waiting as asked); raise when the request failed."""
        status = response.status_code
        if status in REFUSED_UNPROCESSED or status >= 500:
            retryable = status in REFUSED_UNPROCESSED or retry_failures
            wait = retry_after_seconds(response.headers.get("Retry-After"), self._now())
            if not retryable or attempt >= self.policy.max_retries:
                raise ShopTransientError(
                    f"{method} {shown}: HTTP {status} after {attempt + 1} attempt(s): "
                    f"{platform_error_message(response.content)}",
                    shown,
                    status,
                    retry_after=wait,
                )
            if wait is not None and wait > self.policy.max_wait:
                raise ShopTransientError(
                    f"{method} {shown}: HTTP {status}: the shop asks to wait {wait:.0f} s, "
                    f"longer than a run waits ({self.policy.max_wait:.0f} s): "
                    f"{platform_error_message(response.content)}",
                    shown,
                    status,
                    retry_after=wait,
                )
            self._wait_retry_after(wait, attempt)
            return True
        if status >= 400:
            raise ShopPermanentError(
                f"{method} {shown}: HTTP {status} {response.reason}: "
                f"{platform_error_message(response.content)}",
                shown,
                status,
            )
        return False

    def _decode(
        self, response: requests.Response, method: str, shown: str, expect_json: bool
    ) -> Any:
        if not expect_json:
            return response.content
        if not response.content.strip():
            return None
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise ShopTransientError(
                f"{method} {shown}: truncated or malformed JSON response "
                f"({len(response.content)} bytes): {exc}",
                shown,
                response.status_code,
            ) from None

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(self.policy.backoff_base * (2**attempt), self.policy.backoff_max))

    def _wait_retry_after(self, wait: float | None, attempt: int) -> None:
        """Wait as the ``Retry-After`` header said (``wait`` seconds), else back off."""
        if wait is None:
            self._backoff(attempt)
        else:
            self._sleep(wait)


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"
