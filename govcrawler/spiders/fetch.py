"""A response as the archive keeps it (`Fetch`): the one shape of every raw capture."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.http import Response

from govcrawler.items import Fetch


def fetch_of(response: Response) -> Fetch:
    """The raw response as the archive keeps it: requested and final URL, status, headers."""
    headers = {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    requested = (response.request.meta.get("redirect_urls") if response.request else None) or [
        response.url
    ]
    return Fetch(
        url=requested[0],
        final_url=response.url,
        status=response.status,
        fetched_at=datetime.now(UTC),
        body=response.body,
        headers=headers,
    )
