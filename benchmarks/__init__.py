"""govcrawler's benchmarks: a synthetic copy of the site, and measurements of the crawler.

    .venv/bin/python -m benchmarks.run --all          # what `make bench` runs
    .venv/bin/python -m benchmarks.run b1 b2 --b1-articles 2000 --repeats 3

- B1 pipeline cost: a bare Scrapy spider against the full govcrawler crawl, same pages.
- B2 incremental: requests and time of a re-run over an unchanged site, and after new articles.
- B3 archive scale: build rate, file size and query latency of a large archive.
- B4 memory: RSS of a long replay crawl, sampled every second.
- B6 files (issue 14): attachment text priced per library (b6_text), text read in a worker
  process against a thread of the crawl and the archive's growth per stored file (b6_cost,
  b6_growth), RSS of the crawl and its text workers on a site with files (b6_memory).

Generated sites and archives go under a work directory in /tmp; the runner prints each table
and writes benchmarks/RESULTS.md. `bench_neardup.py` is a separate micro-benchmark.
"""
