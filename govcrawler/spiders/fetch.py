"""A response as the archive keeps it (`Fetch`): the one shape of every raw capture."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.http import Response

from govcrawler.items import Fetch


def fetch_of(response: Response) -> Fetch:
    """The raw response as the archive keeps it: requested and final URL, status, headers,
    and the request's method and body (a GET's, empty: None)."""
    headers = {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    request = response.request
    requested = (request.meta.get("redirect_urls") if request else None) or [response.url]
    method = request.method if request else "GET"
    body = request.body if request else b""
    return Fetch(
        url=requested[0],
        final_url=response.url,
        status=response.status,
        fetched_at=datetime.now(UTC),
        body=response.body,
        headers=headers,
        method=method,
        request_body=None if method == "GET" and not body else body,
    )
