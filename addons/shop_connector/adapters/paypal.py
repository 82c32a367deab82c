"""PayPal activity through the REST Transaction Search API, as :class:`BankTransaction`.

Decision: plain ``requests``, not ``paypalrestsdk.Api``. Reading the SDK's ``api.py``
(1.13): ``http_call`` passes no timeout to ``requests.request`` (a hung PayPal blocks the
cron worker forever); ``request`` catches ``UnauthorizedAccess``, drops the token and
calls itself again with no bound (a persistent 401, e.g. revoked credentials, recurses
until the stack overflows); a 400 is *returned* as ``{"error": ...}`` instead of raised;
429 and 5xx are not retried at all; ``Retry-After`` is ignored; in sandbox mode it logs
full request headers (the bearer token) at DEBUG. Making it correct means overriding
``request``, ``http_call`` and ``get_token_hash`` (all of the SDK we would use), so a
subclass would only keep its endpoint table. This module is the thinnest correct client
instead: OAuth2 client credentials, bounded retries with backoff, every request with a
timeout and every failure raised as :class:`TransientError` (try later) or
:class:`PermanentError` (a person must act). ``paypalrestsdk`` is not needed.

Windows: PayPal allows at most 31 days per search and lists some transactions hours
late, so :meth:`PayPalAdapter.fetch_windows` walks from the stored cursor in windows of
at most 31 days, each starting 3 hours before the previous end. The caller stores the
window's transactions (their keys make the overlap harmless), commits, then stores
``window.end`` as its new cursor: a crash repeats at most one window.

Pending (``P``) and denied (``D``) transactions carry no money yet; they are reported
in ``PayPalWindow.skipped`` (key and status) instead of being turned into movements.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from ...mail_crm_shop.services.errors import PermanentError, TransientError
from ..services.payments import BankTransaction, paypal_key

UTC = timezone.utc  # Odoo 19 still runs on Python 3.10 (no datetime.UTC)

TOKEN_PATH = "/v1/oauth2/token"
SEARCH_PATH = "/v1/reporting/transactions"
MAX_WINDOW = timedelta(days=31)
REFUND_CODES = frozenset({"T1106", "T1107", "T1108"})
REVERSAL_PREFIXES = ("T1201", "T1202", "T1203", "T1204", "T1205", "T1206", "T1207", "T1110")
CONVERSION_PREFIX = "T02"
TRANSFER_PREFIX = "T04"
SKIPPED_STATUSES = {"P": "pending", "D": "denied"}


MIN_SPLIT = timedelta(hours=1)


class ResultSetTooLarge(PermanentError):
    """PayPal has more transactions in the window than one search may return."""


@dataclass(frozen=True, slots=True)
class PayPalSettings:
    """Connection settings of one PayPal business account."""

    client_id: str
    client_secret: str
    base_url: str = "https://api-m.paypal.com"
    account: str = "paypal"
    timeout: float = 30.0
    page_size: int = 500
    overlap: timedelta = timedelta(hours=3)
    window: timedelta = MAX_WINDOW
    max_retries: int = 4
    backoff: float = 2.0
    max_wait: float = 120.0


@dataclass(frozen=True, slots=True)
class PayPalWindow:
    """One committed unit of the import: the movements of ``start`` .. ``end``."""

    start: datetime
    end: datetime
    transactions: tuple[BankTransaction, ...]
    skipped: tuple[tuple[str, str], ...] = ()


def _utc(moment: datetime) -> datetime:
    """Aware UTC datetime; naive values are taken as UTC (as Odoo stores them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_windows(cursor_end: datetime, now: datetime, settings: PayPalSettings):
    """The ``(start, end)`` windows to fetch after ``cursor_end`` up to ``now``."""
    if settings.window > MAX_WINDOW or settings.window <= settings.overlap:
        raise PermanentError("PayPal window must be longer than the overlap and <= 31 days")
    start, now = _utc(cursor_end) - settings.overlap, _utc(now)
    while True:
        end = min(start + settings.window, now)
        if end <= start:
            return
        yield start, end
        if end >= now:
            return
        start = end - settings.overlap


class PayPalAdapter:
    """Reads PayPal transactions; one instance per account and cron run."""

    def __init__(
        self,
        settings: PayPalSettings,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._last_network_error: Exception | None = None

    # --- public ----------------------------------------------------------------------

    def fetch_windows(self, cursor_end: datetime, now: datetime) -> Iterator[PayPalWindow]:
        """Yield the windows after ``cursor_end`` (see module docstring), oldest first.

        A window holding more than PayPal returns for one search (``RESULTSET_TOO_LARGE``,
        10,000 items) is split in halves until each half fits.
        """
        for planned in plan_windows(cursor_end, now, self.settings):
            pending = [planned]
            while pending:
                start, end = pending.pop()
                try:
                    details = list(self._search(start, end))
                except ResultSetTooLarge:
                    if end - start <= MIN_SPLIT:
                        raise
                    middle = start + (end - start) / 2
                    pending += [(middle, end), (start, middle)]  # oldest half first
                    continue
                yield self._window(start, end, details)

    def _window(self, start: datetime, end: datetime, details: list[dict]) -> PayPalWindow:
        transactions: list[BankTransaction] = []
        skipped: list[tuple[str, str]] = []
        for detail in details:
            moved, skip = map_transaction(detail, self.settings.account)
            transactions.extend(moved)
            skipped.extend(skip)
        return PayPalWindow(start, end, tuple(transactions), tuple(skipped))

    # --- HTTP ------------------------------------------------------------------------

    def _search(self, start: datetime, end: datetime) -> Iterator[dict]:
        page, total_pages = 1, 1
        while page <= total_pages:
            body = self._get(
                SEARCH_PATH,
                {
                    "start_date": _stamp(start),
                    "end_date": _stamp(end),
                    "fields": "all",
                    "page_size": self.settings.page_size,
                    "page": page,
                },
            )
            details = body.get("transaction_details")
            if not isinstance(details, list):
                raise TransientError("PayPal answered without transaction_details")
            yield from details
            total_pages = int(body.get("total_pages") or 1)
            page += 1

    def _get(self, path: str, params: dict) -> dict:
        """GET with bearer token: 401 refreshes once, 429/5xx/network retried, bounded."""
        refreshed = False
        attempt = 0
        while True:
            token = self._access_token()
            response = self._send(
                "GET",
                path,
                params=params,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            if response is not None and response.status_code == 401:
                if refreshed:
                    raise PermanentError(
                        "PayPal refuses a fresh access token (401): check the API "
                        "credentials and the app's Transaction Search permission"
                    )
                refreshed = True
                self._token = None
                continue
            if response is not None and response.status_code < 300:
                return self._json(response)
            attempt += 1
            self._wait_or_raise(response, attempt)

    def _access_token(self) -> str:
        if self._token and self._clock() < self._token_expires:
            return self._token
        attempt = 0
        while True:
            response = self._send(
                "POST",
                TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=(self.settings.client_id, self.settings.client_secret),
                headers={"Accept": "application/json"},
            )
            if response is not None and response.status_code in (400, 401, 403):
                raise PermanentError(
                    f"PayPal refused the API credentials ({response.status_code}): "
                    f"{_error_text(response)}"
                )
            if response is not None and response.status_code < 300:
                body = self._json(response)
                token = body.get("access_token")
                if not token:
                    raise TransientError("PayPal token answer has no access_token")
                expires_in = float(body.get("expires_in") or 0)
                self._token = token
                self._token_expires = self._clock() + max(expires_in - 60, 0)
                return token
            attempt += 1
            self._wait_or_raise(response, attempt)

    def _send(self, method: str, path: str, **kwargs) -> requests.Response | None:
        """One HTTP request; ``None`` for a network failure (retried by the caller)."""
        try:
            return self.session.request(
                method, self.settings.base_url + path, timeout=self.settings.timeout, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._last_network_error = exc
            return None
        except requests.RequestException as exc:
            raise PermanentError(f"PayPal request could not be sent: {exc}") from exc

    def _wait_or_raise(self, response: requests.Response | None, attempt: int) -> None:
        """Sleep before retry ``attempt`` or raise the error the response stands for."""
        if response is None:
            reason = f"PayPal unreachable: {self._last_network_error}"
            wait = self.settings.backoff * 2 ** (attempt - 1)
        elif response.status_code == 429:
            reason = "PayPal rate limit (429)"
            wait = _retry_after(response, self.settings.backoff * 2 ** (attempt - 1))
        elif response.status_code >= 500:
            reason = f"PayPal server error {response.status_code}: {_error_text(response)}"
            wait = self.settings.backoff * 2 ** (attempt - 1)
        else:
            text = _error_text(response)
            error = ResultSetTooLarge if "RESULTSET_TOO_LARGE" in text else PermanentError
            raise error(f"PayPal refused the request ({response.status_code}): {text}")
        # the wait PayPal asked for (429 ``Retry-After``) goes with the error to the next run
        asked = wait if response is not None and response.status_code == 429 else None
        if attempt > self.settings.max_retries:
            raise TransientError(f"{reason}; gave up after {attempt} attempts", retry_after=asked)
        if wait > self.settings.max_wait:
            raise TransientError(
                f"{reason}; asked to wait {wait:.0f}s, retry later", retry_after=asked
            )
        self._sleep(wait)

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError("PayPal answered with invalid JSON") from exc
        if not isinstance(body, dict):
            raise TransientError("PayPal answered with unexpected JSON")
        return body


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        parts = [
            str(body.get(k))
            for k in ("name", "error", "message", "error_description")
            if body.get(k)
        ]
        if parts:
            return ": ".join(parts)
    return response.text[:300]


# --- mapping (pure) -----------------------------------------------------------------------


def _money(node: Any, what: str) -> tuple[Decimal, str] | None:
    if not node:
        return None
    try:
        return Decimal(str(node["value"])), str(node["currency_code"])
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise PermanentError(f"PayPal {what} is malformed: {node!r}") from exc


def _kind(code: str) -> str:
    if code in REFUND_CODES:
        return "refund"
    if code.startswith(REVERSAL_PREFIXES):
        return "reversal"
    if code.startswith(CONVERSION_PREFIX):
        return "conversion"
    if code.startswith(TRANSFER_PREFIX):
        return "transfer"
    return "payment"


def _payer_name(payer: dict) -> str:
    name = payer.get("payer_name") or {}
    full = name.get("alternate_full_name")
    if full:
        return full
    return " ".join(p for p in (name.get("given_name"), name.get("surname")) if p)


def map_transaction(
    detail: dict, account: str
) -> tuple[list[BankTransaction], list[tuple[str, str]]]:
    """Turn one ``transaction_details`` item into movements (payment and its fee).

    Returns ``(movements, skipped)``; a pending or denied transaction is only listed in
    ``skipped`` as ``(key, status)``. Malformed items raise :class:`PermanentError`.
    """
    info = detail.get("transaction_info") or {}
    txn_id, code, value, currency = _identity(info)
    kind = _kind(code)
    key = paypal_key(txn_id, code, currency if kind == "conversion" else "")
    status = info.get("transaction_status", "S")
    if status in SKIPPED_STATUSES:
        return [], [(key, SKIPPED_STATUSES[status])]
    common = _common_fields(detail, info, account, txn_id, currency)
    reference = info.get("paypal_reference_id") or ""
    payment = BankTransaction(
        key=key,
        amount=value,
        purpose=_purpose(info),
        end_to_end_id=str(info.get("invoice_id") or ""),
        kind=kind,
        related_key=f"paypal:{reference}" if reference else "",
        **common,
    )
    return [payment, *_fee_movements(info, txn_id, code, key, common)], []


def _identity(info: dict) -> tuple[str, str, Decimal, str]:
    """Transaction id, event code, amount and currency; all of them are required."""
    txn_id = info.get("transaction_id")
    code = info.get("transaction_event_code")
    if not txn_id or not code:
        raise PermanentError(f"PayPal transaction without id or event code: {info!r}")
    amount = _money(info.get("transaction_amount"), f"amount of {txn_id}")
    if amount is None:
        raise PermanentError(f"PayPal transaction {txn_id} has no amount")
    return txn_id, code, *amount


def _common_fields(detail: dict, info: dict, account: str, txn_id: str, currency: str) -> dict:
    """The fields a payment and its fee share: account, dates, payer and the raw item."""
    try:
        booked = datetime.strptime(info["transaction_initiation_date"], "%Y-%m-%dT%H:%M:%S%z")
        updated = info.get("transaction_updated_date")
        value_moment = datetime.strptime(updated, "%Y-%m-%dT%H:%M:%S%z") if updated else None
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"PayPal transaction {txn_id} has a bad date") from exc
    payer = detail.get("payer_info") or {}
    raw = json.dumps(detail, sort_keys=True, ensure_ascii=False)
    return {
        "account": account,
        "booking_date": booked.astimezone(UTC).date(),
        "value_date": value_moment.astimezone(UTC).date() if value_moment else None,
        "currency": currency,
        "counterparty_name": _payer_name(payer),
        "counterparty_email": (payer.get("email_address") or "").strip().lower(),
        "entry_reference": txn_id,
        "raw": raw,
    }


def _purpose(info: dict) -> str:
    return " ".join(
        str(info[k]).strip()
        for k in ("invoice_id", "custom_field", "transaction_subject", "transaction_note")
        if info.get(k)
    )


def _fee_movements(
    info: dict, txn_id: str, code: str, key: str, common: dict
) -> list[BankTransaction]:
    """PayPal's fee of the payment ``key`` as a movement of its own (none if zero)."""
    fee = _money(info.get("fee_amount"), f"fee of {txn_id}")
    if fee is None or not fee[0]:
        return []
    return [
        BankTransaction(
            key=paypal_key(txn_id, code, "fee"),
            amount=fee[0],
            purpose=f"PayPal fee for {txn_id}",
            kind="fee",
            related_key=key,
            **{**common, "currency": fee[1]},
        )
    ]
