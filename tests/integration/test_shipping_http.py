"""HttpTransport against a real local HTTP server (pytest-httpserver)."""

import base64
import json

import pytest
from werkzeug import Response

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shipping_exchange.adapters.http import (
    HttpSettings,
    HttpTransport,
    RateLimited,
)

XML = b"<?xml version='1.0' encoding='UTF-8'?>\n<DeliveryOrders/>"


def _transport(httpserver, **overrides) -> HttpTransport:
    values = {"url": httpserver.url_for("/orders"), "timeout": 5}
    return HttpTransport(HttpSettings(**(values | overrides)))


def test_xml_upload_with_bearer_token_and_idempotency_key(httpserver):
    httpserver.expect_oneshot_request(
        "/orders",
        method="POST",
        data=XML,
        headers={"Authorization": "Bearer t0ken", "Idempotency-Key": "WH-OUT-1.xml"},
    ).respond_with_json({"id": "A-1"}, status=201)
    with _transport(httpserver, auth_header="Authorization: Bearer t0ken") as http:
        result = http.upload("WH-OUT-1.xml", XML)
    assert (result.status, result.json()) == (201, {"id": "A-1"})
    request, _ = httpserver.log[0]
    assert request.headers["Content-Type"].startswith("application/xml")
    httpserver.check_assertions()


def test_json_upload_with_basic_auth(httpserver):
    def handler(request):
        assert request.authorization.username == "shop"
        assert request.authorization.password == "pw"
        body = json.loads(request.data)
        assert body == {
            "file_name": "d.xml",
            "content_base64": base64.b64encode(XML).decode(),
        }
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_oneshot_request("/orders", method="POST").respond_with_handler(handler)
    result = _transport(httpserver, content_type="json", username="shop", password="pw").upload(
        "d.xml", XML
    )
    assert result.status == 200
    httpserver.check_assertions()


def test_429_is_transient_with_retry_after(httpserver):
    httpserver.expect_oneshot_request("/orders").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "30"}
    )
    with pytest.raises(RateLimited, match="429") as caught:
        _transport(httpserver).upload("d.xml", XML)
    assert caught.value.retry_after == 30.0
    assert isinstance(caught.value, TransientError)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_and_timeouts_are_transient(httpserver, status):
    httpserver.expect_oneshot_request("/orders").respond_with_data("oops", status=status)
    with pytest.raises(TransientError, match=str(status)):
        _transport(httpserver).upload("d.xml", XML)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_4xx_is_permanent_with_the_reason(httpserver, status):
    httpserver.expect_oneshot_request("/orders").respond_with_data(
        "zip code 999 invalid", status=status
    )
    with pytest.raises(PermanentError, match="zip code 999 invalid"):
        _transport(httpserver).upload("d.xml", XML)


def test_redirects_are_not_followed(httpserver):
    httpserver.expect_oneshot_request("/orders").respond_with_data(
        "", status=302, headers={"Location": "http://example.invalid/"}
    )
    with pytest.raises(PermanentError, match="302"):
        _transport(httpserver).upload("d.xml", XML)


def test_retry_after_a_500_succeeds(httpserver):
    httpserver.expect_ordered_request("/orders").respond_with_data("down", status=500)
    httpserver.expect_ordered_request("/orders").respond_with_json({"ok": True})
    http = _transport(httpserver)
    with pytest.raises(TransientError):
        http.upload("d.xml", XML)
    assert http.upload("d.xml", XML).json() == {"ok": True}
    keys = [request.headers["Idempotency-Key"] for request, _ in httpserver.log]
    assert keys == ["d.xml", "d.xml"]


def test_connection_refused_is_transient(httpserver):
    url = httpserver.url_for("/orders")
    httpserver.stop()
    try:
        with pytest.raises(TransientError, match="ConnectionError"):
            HttpTransport(HttpSettings(url, timeout=2)).upload("d.xml", XML)
    finally:
        httpserver.start()


def test_failures_never_show_the_urls_credentials(httpserver):
    """A carrier URL may carry its key (query) or a user:password: the error a merchant
    reads on the record names the URL without them, also where requests repeats it."""
    httpserver.expect_oneshot_request("/orders").respond_with_data("bad key", status=403)
    url = httpserver.url_for("/orders").replace("http://", "http://wh_user:wh%2Fpw@")
    with pytest.raises(PermanentError) as refused:
        HttpTransport(HttpSettings(f"{url}?token=tk_live_77&client=9", timeout=2)).upload(
            "d.xml", XML
        )
    assert "403" in str(refused.value) and "client=9" in str(refused.value)
    httpserver.stop()
    try:
        with pytest.raises(TransientError, match="ConnectionError") as unreachable:
            HttpTransport(HttpSettings(f"{url}?token=tk_live_77", timeout=2)).upload("d.xml", XML)
    finally:
        httpserver.start()
    for error in (refused.value, unreachable.value):
        for leaked in ("tk_live_77", "wh_user", "wh/pw", "wh%2Fpw"):
            assert leaked not in str(error), (leaked, str(error))
        assert "token=***" in str(error)


def test_a_slow_server_times_out_as_transient(httpserver):
    import threading

    release = threading.Event()

    def slow(request):
        release.wait(5)
        return Response("late")

    httpserver.expect_oneshot_request("/orders").respond_with_handler(slow)
    try:
        with pytest.raises(TransientError, match="Timeout"):
            _transport(httpserver, timeout=0.3).upload("d.xml", XML)
    finally:
        release.set()


def test_bad_auth_header_setting_is_permanent(httpserver):
    with pytest.raises(PermanentError, match="Name: value"):
        _transport(httpserver, auth_header="Bearer-only")
