"""OAuth access tokens for the adapters that need one (Amazon LWA, eBay, Shopware 6)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Any

from ....mail_crm_shop.services.errors import PermanentError
from .http import ShopHttpClient


class AccessToken:
    """Fetch a token from ``token_url`` and reuse it until shortly before it expires.

    ``form`` is sent form-encoded (LWA, eBay) or, with ``as_json``, as JSON (Shopware).
    """

    def __init__(
        self,
        http: ShopHttpClient,
        token_url: str,
        form: Mapping[str, Any],
        *,
        auth: tuple[str, str] | None = None,
        as_json: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._http = http
        self._url = token_url
        self._form = dict(form)
        self._auth = auth
        self._as_json = as_json
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def get(self) -> str:
        """A valid access token, fetched when missing or about to expire."""
        if self._token is None or self._clock() >= self._expires:
            self.refresh()
        return self._token or ""

    def refresh(self) -> None:
        """Fetch a new token now (e.g. after a 401)."""
        headers = {}
        if self._auth:
            raw = f"{self._auth[0]}:{self._auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        kwargs = {"json_body": self._form} if self._as_json else {"data": self._form}
        result = self._http.request("POST", self._url, headers=headers, idempotent=True, **kwargs)
        data = result.data if isinstance(result.data, dict) else {}
        if not data.get("access_token"):
            raise PermanentError(f"POST {result.url}: no access_token in the token response")
        self._token = data["access_token"]
        self._expires = self._clock() + max(0, int(data.get("expires_in") or 300) - 60)
