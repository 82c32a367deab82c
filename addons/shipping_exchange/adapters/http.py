"""HTTP API transport: POST a delivery (XML or JSON) to a carrier or fulfilment API.

Status mapping: 2xx success; 408, 425, 429 and 5xx are :class:`TransientError` (429 and
503 carry the server's ``Retry-After`` seconds in :attr:`RateLimited.retry_after`);
other 4xx are :class:`PermanentError` with the start of the response body. Every request
has a timeout and an ``Idempotency-Key`` (the file name unless given), so a retried POST
can be recognised by an API that supports it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import requests

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ...mail_crm_shop.services.urls import redact, safe_url
from ..services.confirmation import safe_file_name

TRANSIENT_STATUS = frozenset({408, 425, 429})
MAX_ERROR_BODY = 300


class RateLimited(TransientError):
    """429/503 with the server's wish when to retry (``retry_after`` seconds, or None)."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """``auth_header`` is a whole header line (``"Authorization: Bearer abc"``,
    ``"X-Api-Key: abc"``); or ``username``/``password`` for HTTP basic auth."""

    url: str
    content_type: str = "xml"  # "xml": raw body; "json": {"file_name", "content_base64"}
    auth_header: str = ""
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    verify_tls: bool = True


@dataclass(frozen=True, slots=True)
class HttpResult:
    status: int
    body: bytes
    content_type: str

    def json(self):
        """The body as JSON (PermanentError if it is not)."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise PermanentError(f"HTTP response is not JSON: {exc}") from exc


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: let our own backoff decide


class HttpTransport:
    """Posts to one URL with one ``requests.Session`` (connection reuse)."""

    def __init__(self, settings: HttpSettings):
        if settings.content_type not in ("xml", "json"):
            raise PermanentError(f"HTTP content type {settings.content_type!r} unknown")
        self.settings = settings
        self._session = requests.Session()
        if settings.auth_header:
            name, sep, value = settings.auth_header.partition(":")
            if not sep or not name.strip() or not value.strip():
                raise PermanentError("HTTP auth header must look like 'Name: value'")
            self._session.headers[name.strip()] = value.strip()
        elif settings.username:
            self._session.auth = (settings.username, settings.password)

    def __enter__(self) -> HttpTransport:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def post(
        self, body: bytes, content_type: str, idempotency_key: str = "", url: str = ""
    ) -> HttpResult:
        """POST ``body``; return the 2xx result or raise Transient/PermanentError."""
        target = url or self.settings.url
        headers = {"Content-Type": content_type, "Accept": "application/json, application/xml"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self._session.post(
                target,
                data=body,
                headers=headers,
                timeout=self.settings.timeout,
                verify=self.settings.verify_tls,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise PermanentError(_failure(target, f"TLS failed: {exc}")) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise PermanentError(_failure(target, str(exc))) from exc
        except requests.RequestException as exc:  # connection, timeout, broken response
            raise TransientError(_failure(target, f"{exc.__class__.__name__}: {exc}")) from exc
        return self._check(target, response)

    @staticmethod
    def _check(target: str, response: requests.Response) -> HttpResult:
        status = response.status_code
        if 200 <= status < 300:
            return HttpResult(status, response.content, response.headers.get("Content-Type", ""))
        detail = response.text[:MAX_ERROR_BODY].strip()
        message = _failure(target, f"{status} {response.reason}: {detail}").rstrip(": ")
        if status in (429, 503):
            wait = _retry_after(response.headers.get("Retry-After"))
            raise RateLimited(message, retry_after=wait)
        if status in TRANSIENT_STATUS or status >= 500:
            raise TransientError(message)
        raise PermanentError(message)  # other 4xx, and 3xx: we never follow redirects

    def upload(self, name: str, data: bytes) -> HttpResult:
        """Send delivery file ``name`` (as the configured content type)."""
        safe_file_name(name)
        if self.settings.content_type == "json":
            body = json.dumps(
                {"file_name": name, "content_base64": base64.b64encode(data).decode("ascii")}
            ).encode()
            return self.post(body, "application/json", idempotency_key=name)
        return self.post(data, "application/xml; charset=utf-8", idempotency_key=name)

    def post_json(self, payload, idempotency_key: str = "") -> HttpResult:
        """POST ``payload`` serialised as JSON."""
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        return self.post(body, "application/json", idempotency_key)


def _failure(target: str, detail: str) -> str:
    """The error text of a POST to ``target``: the URL's credentials never shown."""
    return redact(f"HTTP POST {safe_url(target)}: {detail}", target)
