"""PayPalAdapter against a local HTTP server speaking PayPal's documented formats.

The server (pytest-httpserver) implements OAuth2 client credentials
(``POST /v1/oauth2/token``) and Transaction Search (``GET /v1/reporting/transactions``)
with PayPal's JSON shapes, real pagination by ``page``/``page_size``, the 31-day limit,
and scripted failures: 429 with Retry-After, 5xx, a token revoked mid-run, and
credentials that PayPal keeps refusing.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from urllib.parse import parse_qs

import pytest
from werkzeug.wrappers import Request, Response

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.paypal import PayPalAdapter, PayPalSettings

UTC = timezone.utc
CLIENT_ID, SECRET = "AeClientId", "EJsecret"


def _detail(txn_id, code, when, value, fee=None, currency="EUR", **info):
    transaction_info = {
        "paypal_account_id": "6STWC2LSUYYYE",
        "transaction_id": txn_id,
        "transaction_event_code": code,
        "transaction_initiation_date": when.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "transaction_updated_date": when.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "transaction_amount": {"currency_code": currency, "value": value},
        "transaction_status": "S",
        "protection_eligibility": "01",
        **info,
    }
    if fee is not None:
        transaction_info["fee_amount"] = {"currency_code": currency, "value": fee}
    return {
        "transaction_info": transaction_info,
        "payer_info": {
            "account_id": "TWVGQTWHH6Q8J",
            "email_address": "Kunde@Example.COM",
            "address_status": "Y",
            "payer_status": "Y",
            "payer_name": {"given_name": "Erika", "surname": "Mustermann"},
            "country_code": "DE",
        },
    }


class FakePayPal:
    """The PayPal API, enough of it: tokens, search with pages, scripted failures."""

    def __init__(self, transactions):
        self.transactions = transactions
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.failures: list[tuple[int, dict]] = []  # served before the next search answer
        self.token_failures: list[int] = []
        self.refuse_all_tokens = False
        self.searches: list[dict] = []
        self.max_results = 10_000

    def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return self._json({"error": "invalid_client", "error_description": "bad"}, 401)
        if parse_qs(request.get_data(as_text=True)) != {"grant_type": ["client_credentials"]}:
            return self._json({"error": "unsupported_grant_type"}, 400)
        if self.token_failures:
            return self._json({"name": "INTERNAL_SERVICE_ERROR"}, self.token_failures.pop(0))
        self.tokens_issued += 1
        token = f"A21AA-token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return self._json(
            {
                "scope": "https://uri.paypal.com/services/reporting/search/read",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
                "nonce": "2026-03-02T10:00:00Z",
            }
        )

    def search(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        if self.refuse_all_tokens or auth.removeprefix("Bearer ") not in self.valid_tokens:
            return self._json(
                {"error": "invalid_token", "error_description": "Access Token not found"}, 401
            )
        if self.failures:
            status, headers = self.failures.pop(0)
            return self._json({"name": "RATE_LIMIT_REACHED"}, status, headers)
        args = request.args
        self.searches.append(dict(args))
        start = datetime.fromisoformat(args["start_date"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(args["end_date"].replace("Z", "+00:00"))
        if end - start > timedelta(days=31):
            return self._json(
                {"name": "INVALID_REQUEST", "message": "Date range is greater than 31 days"},
                400,
            )
        assert args["fields"] == "all"
        page, size = int(args["page"]), int(args["page_size"])
        hits = [
            t
            for t in self.transactions
            if start
            <= datetime.strptime(
                t["transaction_info"]["transaction_initiation_date"], "%Y-%m-%dT%H:%M:%S%z"
            )
            <= end
        ]
        if len(hits) > self.max_results:
            return self._json(
                {
                    "name": "RESULTSET_TOO_LARGE",
                    "message": "Result set size is greater than the maximum limit. Change "
                    "the filter criteria and try again.",
                    "debug_id": "f2d3b0e1c7a4",
                },
                400,
            )
        pages = max(1, -(-len(hits) // size))
        return self._json(
            {
                "transaction_details": hits[(page - 1) * size : page * size],
                "account_number": "XZXSPECPDZHZU",
                "start_date": args["start_date"],
                "end_date": args["end_date"],
                "last_refreshed_datetime": args["end_date"],
                "page": page,
                "total_items": len(hits),
                "total_pages": pages,
                "links": [],
            }
        )

    @staticmethod
    def _json(body, status=200, headers=None):
        return Response(json.dumps(body), status, headers, content_type="application/json")


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def paypal(httpserver):
    server = FakePayPal(
        [
            _detail("5TY05013RG002845M", "T0006", T0, "119.90", "-2.63", invoice_id="SO-004711"),
            _detail("8MC585209K746392H", "T0007", T0 + timedelta(hours=1), "59.95", "-1.49"),
            _detail("1FN09943JY662130R", "T0011", T0 + timedelta(hours=2), "10.00"),
            _detail(
                "9GS80322F3214733L",
                "T1107",
                T0 + timedelta(days=2),
                "-59.95",
                "1.19",
                paypal_reference_id="8MC585209K746392H",
                paypal_reference_id_type="TXN",
            ),
            _detail("0JF852973C016714D", "T0200", T0 + timedelta(days=3), "-20.00"),
            _detail("0JF852973C016714D", "T0200", T0 + timedelta(days=3), "21.60", currency="USD"),
            _detail("7WJ21541HN3393231", "T1201", T0 + timedelta(days=40), "-119.90"),
        ]
    )
    httpserver.expect_request("/v1/oauth2/token", method="POST").respond_with_handler(server.token)
    httpserver.expect_request("/v1/reporting/transactions", method="GET").respond_with_handler(
        server.search
    )
    return server, httpserver


def _adapter(httpserver, sleeps=None, **overrides):
    settings = PayPalSettings(
        CLIENT_ID,
        SECRET,
        base_url=httpserver.url_for("").rstrip("/"),
        timeout=5,
        page_size=2,
        **overrides,
    )
    if sleeps is None:
        return PayPalAdapter(settings)
    return PayPalAdapter(settings, sleep=sleeps.append)


def _all(adapter, start=T0 - timedelta(hours=1), now=T0 + timedelta(days=45)):
    return list(adapter.fetch_windows(start, now))


def test_windows_pages_and_mapping(paypal):
    server, httpserver = paypal
    windows = _all(_adapter(httpserver))
    assert [(w.start, w.end) for w in windows] == [
        (T0 - timedelta(hours=4), T0 + timedelta(days=31, hours=-4)),
        (T0 + timedelta(days=31, hours=-7), T0 + timedelta(days=45)),
    ]
    assert all(w.end - w.start <= timedelta(days=31) for w in windows)
    first = {t.key: t for t in windows[0].transactions}
    assert sorted(first) == sorted(
        [
            "paypal:5TY05013RG002845M:T0006",
            "paypal:5TY05013RG002845M:T0006:fee",
            "paypal:8MC585209K746392H:T0007",
            "paypal:8MC585209K746392H:T0007:fee",
            "paypal:1FN09943JY662130R:T0011",
            "paypal:9GS80322F3214733L:T1107",
            "paypal:9GS80322F3214733L:T1107:fee",
            "paypal:0JF852973C016714D:T0200:EUR",
            "paypal:0JF852973C016714D:T0200:USD",
        ]
    )
    sale = first["paypal:5TY05013RG002845M:T0006"]
    assert (sale.amount, sale.currency, sale.kind) == (Decimal("119.90"), "EUR", "payment")
    assert sale.counterparty_email == "kunde@example.com"
    assert sale.counterparty_name == "Erika Mustermann"
    assert "SO-004711" in sale.purpose
    fee = first["paypal:5TY05013RG002845M:T0006:fee"]
    assert (fee.amount, fee.kind, fee.related_key) == (Decimal("-2.63"), "fee", sale.key)
    refund = first["paypal:9GS80322F3214733L:T1107"]
    assert (refund.kind, refund.amount) == ("refund", Decimal("-59.95"))
    assert refund.related_key == "paypal:8MC585209K746392H"
    assert first["paypal:9GS80322F3214733L:T1107:fee"].amount == Decimal("1.19")
    assert first["paypal:0JF852973C016714D:T0200:USD"].kind == "conversion"
    assert [t.kind for t in windows[1].transactions] == ["reversal"]
    # 7 in the first window at 2 a page: pages 1..4 were all asked for
    assert [int(s["page"]) for s in server.searches] == [1, 2, 3, 1]
    assert server.tokens_issued == 1


def test_a_window_with_too_many_results_is_split(paypal):
    server, httpserver = paypal
    server.max_results = 2
    windows = _all(_adapter(httpserver), now=T0 + timedelta(days=5))
    keys = [t.key for w in windows for t in w.transactions]
    assert len(keys) == len(set(keys)) == 9  # the 6 PayPal transactions, fees apart
    assert len(windows) >= 3
    assert windows[0].start == T0 - timedelta(hours=4)
    assert windows[-1].end == T0 + timedelta(days=5)
    assert all(a.end == b.start for a, b in pairwise(windows))


def test_token_is_renewed_before_it_expires(paypal):
    server, httpserver = paypal
    now = [0.0]
    adapter = PayPalAdapter(
        PayPalSettings(CLIENT_ID, SECRET, base_url=httpserver.url_for("").rstrip("/")),
        clock=lambda: now[0],
    )
    list(adapter.fetch_windows(T0, T0 + timedelta(days=1)))
    now[0] = 32400 - 30  # within the last minute of the token's life
    list(adapter.fetch_windows(T0, T0 + timedelta(days=1)))
    assert server.tokens_issued == 2


def test_rate_limit_waits_for_retry_after_and_server_errors_back_off(paypal):
    server, httpserver = paypal
    server.failures = [(429, {"Retry-After": "7"}), (503, {}), (500, {})]
    sleeps = []
    windows = _all(_adapter(httpserver, sleeps, backoff=0.5), now=T0 + timedelta(days=5))
    assert sleeps == [7.0, 1.0, 2.0]
    assert len(windows[0].transactions) == 9


def test_persistent_server_errors_end_in_a_transient_error(paypal):
    server, httpserver = paypal
    server.failures = [(502, {})] * 10
    sleeps = []
    with pytest.raises(TransientError, match="gave up after 4 attempts"):
        _all(_adapter(httpserver, sleeps, max_retries=3, backoff=1))
    assert sleeps == [1, 2, 4]
    assert len(server.failures) == 6  # bounded: 4 attempts, no more


def test_retry_after_longer_than_allowed_is_left_to_the_next_run(paypal):
    server, httpserver = paypal
    server.failures = [(429, {"Retry-After": "3600"})]
    sleeps = []
    with pytest.raises(TransientError, match="retry later") as info:
        _all(_adapter(httpserver, sleeps))
    assert sleeps == []
    assert info.value.retry_after == 3600  # the account's next sync waits for it


def test_token_expired_mid_run_is_refreshed_once(paypal):
    server, httpserver = paypal
    adapter = _adapter(httpserver)
    windows = adapter.fetch_windows(T0 - timedelta(hours=1), T0 + timedelta(days=45))
    first = next(windows)
    server.valid_tokens.clear()  # PayPal revoked / expired the token between windows
    second = next(windows)
    assert len(first.transactions) == 9
    assert [t.kind for t in second.transactions] == ["reversal"]
    assert server.tokens_issued == 2


def test_persistent_401_is_a_permanent_error_not_a_loop(paypal):
    server, httpserver = paypal
    server.refuse_all_tokens = True
    with pytest.raises(PermanentError, match="401"):
        _all(_adapter(httpserver))
    assert server.tokens_issued == 2  # the first token and exactly one refresh


def test_wrong_credentials_are_permanent(paypal):
    _server, httpserver = paypal
    adapter = PayPalAdapter(
        PayPalSettings(CLIENT_ID, "wrong", base_url=httpserver.url_for("").rstrip("/"))
    )
    with pytest.raises(PermanentError, match="invalid_client"):
        _all(adapter)


def test_token_endpoint_5xx_is_retried(paypal):
    server, httpserver = paypal
    server.token_failures = [500]
    sleeps = []
    windows = _all(_adapter(httpserver, sleeps), now=T0 + timedelta(days=1))
    assert sleeps == [2.0]
    assert len(windows) == 1


def test_unreachable_paypal_is_transient():
    adapter = PayPalAdapter(
        PayPalSettings(CLIENT_ID, SECRET, base_url="http://127.0.0.1:9", timeout=1, max_retries=1),
        sleep=lambda _s: None,
    )
    with pytest.raises(TransientError, match="unreachable"):
        _all(adapter)


def test_a_refused_request_is_permanent(paypal):
    server, httpserver = paypal
    server.failures = [(422, {})]
    sleeps = []
    with pytest.raises(PermanentError, match="422"):
        _all(_adapter(httpserver, sleeps))
    assert sleeps == []
