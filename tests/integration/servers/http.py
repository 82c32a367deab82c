"""HTTP fixtures: pytest-httpserver's ``httpserver`` (a real werkzeug server on 127.0.0.1)
plus ``json_pages``, a small helper to serve a paginated JSON API from it.

Example::

    def test_import_reads_every_page(httpserver, json_pages):
        json_pages("/api/orders", [{"data": [1, 2], "next": 2}, {"data": [3], "next": None}])
        client = ShopClient(httpserver.url_for("/"))
        ...
        httpserver.check_assertions()  # every page was asked for, nothing unexpected
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

__all__ = ["json_pages"]


@pytest.fixture
def json_pages(httpserver) -> Callable[..., None]:
    """Return ``serve(path, pages, page_param="page", first=1, headers=None)``.

    ``serve`` answers ``GET path?<page_param>=<n>`` with ``pages[n - first]`` as JSON, each
    page once and in order (``ordered`` handlers: a client fetching a page twice or out of
    order makes ``httpserver.check_assertions()`` fail). ``headers`` are the request
    headers every page must carry (an API key, say).
    """

    def serve(
        path: str,
        pages: Sequence[Any],
        page_param: str = "page",
        first: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        for number, body in enumerate(pages, start=first):
            httpserver.expect_ordered_request(
                path, method="GET", query_string={page_param: str(number)}, headers=headers
            ).respond_with_json(body)

    return serve
