"""Scrapy settings for govcrawler, and the only module that reads the environment.

Custom settings are prefixed `GOVCRAWLER_`; each is listed in the README's settings table
(a test keeps the two in step). Defaults are polite: one request at a time to the host, a
one-second delay that AutoThrottle may stretch, robots.txt obeyed.
"""

from __future__ import annotations

import os

BOT_NAME = "govcrawler"
SPIDER_MODULES = ["govcrawler.spiders"]
NEWSPIDER_MODULE = "govcrawler.spiders"
# `scrapy crawl` reports a bad govcrawler setting in one line (govcrawler/commands/crawl.py).
COMMANDS_MODULE = "govcrawler.commands"

# --- govcrawler's own settings -------------------------------------------------------------
# Where the archive lives (any SQLAlchemy URL; SQLite by default, in the working directory).
GOVCRAWLER_DATABASE_URL = os.environ.get("GOVCRAWLER_DATABASE_URL", "sqlite:///archive.sqlite3")
# Start page and scope belong to each spider (its `start_url` and `scope_prefixes`); these
# override them for every spider of the process (`-a start_url=…` overrides these in turn; see
# govcrawler/spiders/site.py). Empty: each spider's own.
GOVCRAWLER_START_URL = os.environ.get("GOVCRAWLER_START_URL", "")
GOVCRAWLER_SCOPE_PREFIXES: list[str] = []
# Item types of spiders outside govcrawler: dotted paths of their `govcrawler.pipelines.ItemPath`
# (a spider may set it in its `custom_settings`). govcrawler's own item types need none.
GOVCRAWLER_ITEM_PATHS: list[str] = []
# A saved copy of the site to crawl instead of the network (see govcrawler/crawl/replay.py).
GOVCRAWLER_REPLAY_DIR = os.environ.get("GOVCRAWLER_REPLAY_DIR", "")
# Send the site's requests to this origin instead (a local mirror, or a test server on
# 127.0.0.1); URLs and the archive stay those of www.sc.gov.cn (see govcrawler/crawl/gateway.py).
GOVCRAWLER_GATEWAY = os.environ.get("GOVCRAWLER_GATEWAY", "")
# Files (attachments, images): a larger body is not kept (a larger declared Content-Length is not
# even read); bodies are streamed to a spool directory, never held in memory (crawl/spool.py).
GOVCRAWLER_FILE_MAX_BYTES = int(os.environ.get("GOVCRAWLER_FILE_MAX_BYTES", "104857600"))
# Where the spool goes (a fresh directory under it per crawl, removed when the crawl closes).
# Empty: the system's temporary directory.
GOVCRAWLER_SPOOL_DIR = os.environ.get("GOVCRAWLER_SPOOL_DIR", "")
# Articles written to the archive per transaction.
GOVCRAWLER_BATCH_SIZE = 50
# Who writes them (govcrawler/pipelines/writer.py): "process", a process of its own, on the second
# core (it pays when pages come fast: a replay); "inline", the crawl's own thread; "auto", a
# process when replaying, inline otherwise (a polite live crawl is idle most of the time).
GOVCRAWLER_ARCHIVE_WRITER = os.environ.get("GOVCRAWLER_ARCHIVE_WRITER", "auto")
# Who to contact about this crawler; sent in the User-Agent.
GOVCRAWLER_CONTACT = os.environ.get("GOVCRAWLER_CONTACT", "")

# --- incremental runs -----------------------------------------------------------------------
# Paging through a list stops after this many consecutive pages that hold only known articles.
GOVCRAWLER_KNOWN_PAGES_TOLERANCE = 1
# When a known article is fetched again: [max age in days (None: any), days between visits].
GOVCRAWLER_REVISIT_SCHEDULE = [[30, 1], [365, 7], [None, 30]]
# Files (images, attachments) of archived pages: fetched, revisited every so many days
# (conditionally), their text read by so many worker processes (0: a thread of the crawl).
GOVCRAWLER_FETCH_FILES = True
GOVCRAWLER_FILE_REVISIT_DAYS = 90
GOVCRAWLER_TEXT_WORKERS = 1
# Re-fetch everything, known or not (`govcrawler crawl --full`).
GOVCRAWLER_FULL = False

# --- health checks: a run that crosses one fails loudly (exit status 4, or 5 when blocked) ------
# Largest share of article pages extracted by the generic fallback (a redesign shows up here).
GOVCRAWLER_MAX_FALLBACK_SHARE = 0.2
# Largest share of requests that end in a 5xx or a download error.
GOVCRAWLER_MAX_ERROR_RATE = 0.2
# Largest drop, against the previous run, in the share of articles with a required field.
GOVCRAWLER_MAX_COVERAGE_DROP = 0.2
# Article pages a run needs before the share-based checks apply (a tiny run proves nothing).
GOVCRAWLER_HEALTH_MIN_PAGES = 5

# --- politeness beyond Scrapy's own -----------------------------------------------------------
# The longest Retry-After (seconds) honoured; a longer one stops the run as blocked.
GOVCRAWLER_MAX_RETRY_AFTER = 600
# After this many blocked responses the run stops (outcome `blocked`, exit status 5); 0: never.
GOVCRAWLER_STOP_AFTER_BLOCKED = 5
# Challenge pages: a response smaller than this that sets cookies by script is a block page.
GOVCRAWLER_CHALLENGE_MAX_BYTES = 4096

# --- distributed crawl (govcrawler/distributed/) -----------------------------------------------
# A Redis server (redis://host:port/db) through which several workers share a crawl:
# scrapy-redis's queue and duplicate filter per job, the workers of each job, and one pace for
# the site. Empty: one process crawls on its own (env var or `govcrawler crawl --redis-url`).
GOVCRAWLER_REDIS_URL = os.environ.get("GOVCRAWLER_REDIS_URL", "")
# Prefix of the Redis keys: one per archive; every worker of an archive uses the same.
GOVCRAWLER_REDIS_PREFIX = os.environ.get("GOVCRAWLER_REDIS_PREFIX", "govcrawler")
# This worker's name (letters, digits, . _ -): its lock file and its key in Redis.
# Default: the host name; give each worker on one machine its own (`--worker-id`).
GOVCRAWLER_WORKER_ID = os.environ.get("GOVCRAWLER_WORKER_ID", "")
# Seconds a worker's key lives unless the worker refreshes it: a worker silent this long is
# dead, and a job whose members are all dead is unfinished.
GOVCRAWLER_WORKER_TIMEOUT = float(os.environ.get("GOVCRAWLER_WORKER_TIMEOUT", "60"))
# Seconds a worker with nothing to do waits for the job's queue to refill (another worker may
# be reading a list page) before it leaves the job.
GOVCRAWLER_WORKER_IDLE = float(os.environ.get("GOVCRAWLER_WORKER_IDLE", "30"))
# Where lock files go when the archive is not a local SQLite file (default: the temp directory).
GOVCRAWLER_LOCK_DIR = os.environ.get("GOVCRAWLER_LOCK_DIR", "")

# Seconds between two requests to the site (across all workers of a distributed crawl), over
# DOWNLOAD_DELAY below and over replay's 0: e.g. a realistic pace when timing a replay (env var).
GOVCRAWLER_DOWNLOAD_DELAY = os.environ.get("GOVCRAWLER_DOWNLOAD_DELAY", "")

# --- testing only ---------------------------------------------------------------------------
# Fault injection for the crash-safety tests: "commit:N" (SIGKILL inside the N-th batch's
# transaction), "batch:N" (after the N-th commit), "response:N" (at the N-th article response).
GOVCRAWLER_KILL_AT = os.environ.get("GOVCRAWLER_KILL_AT", "")

# --- politeness -----------------------------------------------------------------------------
USER_AGENT = "govcrawler/0.1 (+archiver of public government publications" + (
    f"; contact: {GOVCRAWLER_CONTACT})" if GOVCRAWLER_CONTACT else ")"
)
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 60
# Public static pages need no cookies; a challenge page's cookie is never kept or replayed.
COOKIES_ENABLED = False

# --- components -----------------------------------------------------------------------------
# File requests streamed to disk, the rest through Scrapy's own handler (replay and the gateway
# swap these in their add-ons).
DOWNLOAD_HANDLERS = {
    "http": "govcrawler.crawl.spool.SpoolingDownloadHandler",
    "https": "govcrawler.crawl.spool.SpoolingDownloadHandler",
}
ADDONS = {
    "govcrawler.crawl.replay.ReplayAddon": 0,
    "govcrawler.crawl.gateway.GatewayAddon": 0,
    "govcrawler.distributed.DistributedAddon": 0,
}
EXTENSIONS = {"govcrawler.runs.records.RunRecorder": 0}
# Scrapy's duplicate filter, fingerprints on disk: memory stays flat (govcrawler/crawl/seen.py).
DUPEFILTER_CLASS = "govcrawler.crawl.seen.DiskDupeFilter"
# The start page's fate goes into the stats for the health checks (govcrawler/crawl/startpage.py).
SPIDER_MIDDLEWARES = {"govcrawler.crawl.startpage.StartPageSpiderMiddleware": 30}
DOWNLOADER_MIDDLEWARES = {
    # nearest the engine: it sees the start page's final answer, after retries and redirects
    "govcrawler.crawl.startpage.StartPageMiddleware": 30,
    "govcrawler.crawl.siteonly.SiteOnlyMiddleware": 40,
    # Scrapy's, but every request waiting for robots.txt is checked (govcrawler/crawl/robots.py)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "govcrawler.crawl.robots.RobotsTxtMiddleware": 100,
    # Responses pass from high to low numbers: block statuses are caught before Cookies (700),
    # challenge pages after HttpCompression (590) and before MetaRefresh (580), Retry-After
    # before Retry (550) retries on its own (see govcrawler/crawl/politeness.py).
    "govcrawler.crawl.politeness.BlockStatusMiddleware": 720,
    "govcrawler.crawl.politeness.ChallengePageMiddleware": 585,
    "govcrawler.crawl.politeness.PacingMiddleware": 560,
}
ITEM_PIPELINES = {
    "govcrawler.pipelines.CleanPipeline": 100,
    "govcrawler.pipelines.ValidatePipeline": 200,
    "govcrawler.pipelines.DedupePipeline": 300,
    "govcrawler.pipelines.filetext.FileTextPipeline": 350,
    "govcrawler.pipelines.ArchivePipeline": 400,
}
# Each response yields at most one article: a small value saves the cost of idle item tasks.
CONCURRENT_ITEMS = 8
LOG_LEVEL = os.environ.get("GOVCRAWLER_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port: a cron job needs no remote control
# A <meta refresh> is followed only when immediate (a redirect); a page that reloads itself
# every minute is content.
METAREFRESH_MAXDELAY = 1
