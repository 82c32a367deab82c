"""The shared shop HTTP client against a real local HTTP server."""

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from werkzeug import Response

from shopaddons.mail_crm_shop.services.errors import PermanentError, TransientError
from shopaddons.shop_connector.adapters.shops.http import (
    HttpPolicy,
    ShopHttpClient,
    platform_error_message,
    retry_after_seconds,
    safe_url,
)

from .shop_helpers import Sleeps, strict_httpserver  # noqa: F401 - autouse fixture

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)


def _client(sleeps, **policy):
    return ShopHttpClient(
        HttpPolicy(timeout=5, **policy), auth=("user", "s3cret"), sleep=sleeps, now=lambda: NOW
    )


def test_429_waits_retry_after_seconds_then_succeeds(httpserver):
    httpserver.expect_oneshot_request("/x").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    sleeps = Sleeps()
    result = _client(sleeps).get(httpserver.url_for("/x"))
    assert result.data == {"ok": True}
    assert sleeps == [7.0]


def test_429_with_http_date_within_max_wait_is_slept_through(httpserver):
    later = format_datetime(NOW + timedelta(seconds=45), usegmt=True)
    httpserver.expect_oneshot_request("/x").respond_with_data(
        "", status=429, headers={"Retry-After": later}
    )
    httpserver.expect_request("/x").respond_with_json([])
    sleeps = Sleeps()
    assert _client(sleeps, max_wait=60).get(httpserver.url_for("/x")).data == []
    assert sleeps == [45.0]


@pytest.mark.parametrize(
    "retry_after", [format_datetime(NOW + timedelta(hours=2), usegmt=True), "7200"]
)
def test_429_asking_longer_than_max_wait_fails_at_once_with_the_wait(httpserver, retry_after):
    """Sleeping 60 s and asking again, two hours early, would only be refused again and
    hold the run (and every other shop after it): the wait goes to the next run."""
    httpserver.expect_request("/x").respond_with_data(
        '{"errors": "Daily quota exceeded"}', status=429, headers={"Retry-After": retry_after}
    )
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="asks to wait 7200 s") as info:
        _client(sleeps, max_wait=60).get(httpserver.url_for("/x"))
    assert sleeps == []
    assert len(httpserver.log) == 1
    assert info.value.retry_after == 7200
    assert info.value.status == 429
    assert "Daily quota exceeded" in str(info.value)


def test_429_forever_becomes_transient_after_max_retries(httpserver):
    httpserver.expect_request("/x").respond_with_data("", status=429, headers={"Retry-After": "1"})
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="HTTP 429 after 3 attempt") as info:
        _client(sleeps, max_retries=2).get(httpserver.url_for("/x"))
    assert sleeps == [1.0, 1.0]
    assert info.value.status == 429
    assert info.value.url == httpserver.url_for("/x")
    assert info.value.retry_after == 1.0  # the next run waits for it too


def test_5xx_without_retry_after_names_no_wait(httpserver):
    httpserver.expect_request("/x").respond_with_data("oops", status=502)
    with pytest.raises(TransientError) as info:
        _client(Sleeps(), max_retries=0).get(httpserver.url_for("/x"))
    assert info.value.retry_after is None


def test_5xx_backs_off_exponentially_and_bounded(httpserver):
    httpserver.expect_request("/x").respond_with_data("oops", status=503)
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="HTTP 503"):
        _client(sleeps, max_retries=4, backoff_base=2, backoff_max=5).get(httpserver.url_for("/x"))
    assert sleeps == [2, 4, 5, 5]
    assert len(httpserver.log) == 5


def test_503_with_retry_after_is_honoured(httpserver):
    httpserver.expect_oneshot_request("/x").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": "30"}
    )
    httpserver.expect_request("/x").respond_with_json({})
    sleeps = Sleeps()
    _client(sleeps).get(httpserver.url_for("/x"))
    assert sleeps == [30.0]


def test_429_on_a_post_is_retried_since_it_was_not_processed(httpserver):
    httpserver.expect_oneshot_request("/x", method="POST").respond_with_data("", status=429)
    httpserver.expect_request("/x", method="POST").respond_with_json({"id": 1}, status=201)
    sleeps = Sleeps()
    result = _client(sleeps).request("POST", httpserver.url_for("/x"), json_body={})
    assert (result.status, result.data, sleeps) == (201, {"id": 1}, [1.0])


def test_5xx_on_a_non_idempotent_post_is_not_repeated(httpserver):
    httpserver.expect_request("/x", method="POST").respond_with_data("oops", status=502)
    sleeps = Sleeps()
    with pytest.raises(TransientError):
        _client(sleeps).request("POST", httpserver.url_for("/x"), json_body={"a": 1})
    assert len(httpserver.log) == 1
    assert sleeps == []


def test_4xx_is_permanent_with_the_platform_message(httpserver):
    httpserver.expect_request("/x").respond_with_json(
        {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."},
        status=401,
    )
    with pytest.raises(PermanentError, match="Sorry, you cannot list resources") as info:
        _client(Sleeps()).get(httpserver.url_for("/x"), params={"consumer_secret": "cs_x"})
    assert info.value.status == 401
    assert "cs_x" not in str(info.value)
    assert "consumer_secret=***" in info.value.url
    assert len(httpserver.log) == 1


def test_truncated_json_is_transient_and_names_the_url(httpserver):
    httpserver.expect_request("/orders").respond_with_data(
        '{"orders": [{"id": 1, "na', content_type="application/json"
    )
    with pytest.raises(TransientError, match="truncated or malformed JSON") as info:
        _client(Sleeps()).get(httpserver.url_for("/orders"))
    assert httpserver.url_for("/orders") in str(info.value)


def test_basic_auth_is_sent_and_never_shown(httpserver):
    httpserver.expect_request(
        "/x", headers={"Authorization": "Basic dXNlcjpzM2NyZXQ="}
    ).respond_with_data("boom", status=404)
    with pytest.raises(PermanentError) as info:
        _client(Sleeps()).get(httpserver.url_for("/x"))
    assert "HTTP 404" in str(info.value)
    assert "s3cret" not in str(info.value)


def test_connection_refused_is_transient(httpserver):
    url = httpserver.url_for("/x")
    httpserver.stop()
    try:
        with pytest.raises(TransientError, match="ConnectionError"):
            _client(Sleeps(), max_retries=1).get(url)
    finally:
        httpserver.start()


def test_timeout_is_transient(httpserver):
    import time

    def slow(_request):
        time.sleep(1)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    client = ShopHttpClient(HttpPolicy(timeout=0.2, max_retries=0), sleep=Sleeps())
    with pytest.raises(TransientError, match="Timeout"):
        client.get(httpserver.url_for("/slow"))
    # the server logs the request once its slow answer is done: wait for it here, or it
    # lands in the log of whichever test runs next on the shared server
    deadline = time.monotonic() + 5
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("Mon, 01 Jul 2024 12:00:30 GMT", 30.0),
        ("Mon, 01 Jul 2024 11:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_parsing(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


def test_safe_url_drops_userinfo_and_masks_secrets():
    url = "https://ck:cs@shop.example.de:8443/wp-json/wc/v3/orders?page=2&consumer_key=ck_1"
    assert safe_url(url) == (
        "https://shop.example.de:8443/wp-json/wc/v3/orders?page=2&consumer_key=***"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"errors": "[API] Invalid API key or access token"}, "Invalid API key"),
        ({"errors": {"line_items": ["is invalid"]}}, "line_items: is invalid"),
        ({"errors": [{"code": "InvalidInput", "message": "Invalid MarketplaceId"}]}, "Invalid"),
        ({"errors": [{"errorId": 1001, "longMessage": "Invalid access token"}]}, "1001"),
        ({"errors": [{"status": "400", "title": "Bad", "detail": "Filter x"}]}, "Filter x"),
    ],
)
def test_platform_error_message_shapes(body, message):
    assert message in platform_error_message(json.dumps(body).encode())


def test_request_that_cannot_be_sent_is_permanent_and_not_retried():
    sleeps = Sleeps()
    with pytest.raises(PermanentError, match=r"GET ftp://127\.0\.0\.1/x\?token=\*\*\*: ") as info:
        _client(sleeps).get("ftp://user:pw@127.0.0.1/x", params={"token": "abc"})
    assert info.value.url == "ftp://127.0.0.1/x?token=***"
    assert info.value.status is None
    assert sleeps == []
    # requests' own text repeats the URL it was given: its secrets are masked there too
    assert "abc" not in str(info.value)
    assert "pw" not in str(info.value)
    assert "user" not in str(info.value)


def test_connection_failure_text_never_shows_the_secrets():
    sleeps = Sleeps()
    secret = "s3cr&t/+key"
    with pytest.raises(TransientError) as info:
        # port 9 on 127.0.0.1: nothing listens, the connection is refused
        _client(sleeps).get(
            "http://ck_user:p%40ss@127.0.0.1:9/wc-json?consumer_secret=cs_9f3",
            params={"key": secret, "page": "2"},
        )
    text = str(info.value)
    assert "ConnectionError" in text
    assert "page=2" in text, "what is not secret stays readable"
    for leaked in ("cs_9f3", "s3cr", "p@ss", "p%40ss", "ck_user"):
        assert leaked not in text, (leaked, text)
    assert info.value.url == "http://127.0.0.1:9/wc-json?consumer_secret=***&key=***&page=2"
