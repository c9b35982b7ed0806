"""The run's on-disk seen-sets: Scrapy's duplicate filter and the pipeline's URL set."""

from __future__ import annotations

import hashlib

from scrapy import Request
from scrapy.utils.test import get_crawler

from govcrawler.crawl.seen import CACHE_KIB, DigestSet, DiskDupeFilter
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider


def digest(n: int) -> bytes:
    return hashlib.sha1(f"https://www.sc.gov.cn/{n}.shtml".encode()).digest()


def test_add_tells_whether_a_digest_is_new() -> None:
    seen = DigestSet()
    assert seen.add(digest(1)) is True
    assert seen.add(digest(1)) is False
    assert seen.add(digest(2)) is True
    assert digest(1) in seen and digest(3) not in seen
    assert len(seen) == 2
    seen.close()


def test_a_set_larger_than_its_cache_keeps_every_digest() -> None:
    # 20-byte keys take ~30 bytes a row in the B-tree: 4x the cache spills to the file.
    count = 4 * CACHE_KIB * 1024 // 20
    seen = DigestSet()
    for n in range(count):
        seen.add(digest(n))
    pages = seen._db.execute("PRAGMA page_count").fetchone()[0]
    page_size = seen._db.execute("PRAGMA page_size").fetchone()[0]
    assert pages * page_size > 2 * CACHE_KIB * 1024
    assert len(seen) == count
    assert all(not seen.add(digest(n)) for n in range(0, count, 97))
    assert not any(digest(n) in seen for n in range(count, count + 1000))
    seen.close()


def test_the_duplicate_filter_knows_a_request_by_scrapys_fingerprint() -> None:
    crawler = get_crawler(OpenGovernanceSpider)
    crawler.spider = crawler._create_spider()
    dupes = DiskDupeFilter.from_crawler(crawler)
    first = Request("https://www.sc.gov.cn/10462/10758/list.shtml?a=1&b=2")
    assert dupes.request_seen(first) is False
    # The same request as canonicalised by Scrapy (query order) is a duplicate; a POST is not.
    assert dupes.request_seen(Request("https://www.sc.gov.cn/10462/10758/list.shtml?b=2&a=1"))
    assert not dupes.request_seen(first.replace(method="POST"))
    crawler.stats.open_spider()
    dupes.log(first, crawler.spider)
    dupes.log(first, crawler.spider)
    assert crawler.stats.get_value("dupefilter/filtered") == 2
    dupes.close("finished")
