"""Scrapy settings for wicnews.

Every wicnews-specific knob is a ``WICNEWS_*`` setting. Values flow one way (see
``wicnews.config``): this module gives the defaults, environment variables named
``WICNEWS_*`` override them, and ``-s NAME=VALUE`` (``scrapy crawl`` or ``wicnews crawl``)
overrides both. Components read them from the crawler in ``from_crawler``. This module
reads nothing at import time.
"""

BOT_NAME = "wicnews"
SPIDER_MODULES = ["wicnews.spiders"]
NEWSPIDER_MODULE = "wicnews.spiders"

# --- wicnews -------------------------------------------------------------------------
# SQLAlchemy URL; empty means the embedded SQLite database at wicnews.db.default_url().
WICNEWS_DATABASE_URL = ""
# Sources file (TOML); empty means the bundled wicnews/sources.toml.
WICNEWS_SOURCES = ""
# Topic profile (TOML) that decides what is coverage, a mention or neither; empty means the
# bundled wicnews/topics/wic.toml (the World Internet Conference, English and Chinese).
WICNEWS_TOPIC = ""
# Run Alembic migrations automatically when the database has no schema yet.
WICNEWS_AUTO_UPGRADE = True
# Do not download article URLs that are already stored (as article or alias URL).
WICNEWS_SKIP_SEEN = True
# Ignore feed/sitemap entries older than this many days (0 = no limit).
WICNEWS_MAX_AGE_DAYS = 0
# Resemblance (pipelines/dedupe.py ``resemblance``: the Jaccard similarity of 4-token
# shingles, or (1 + containment) / 2 for a copy whose paragraphs are found in the other text)
# from which a new text is a near-duplicate of a stored one; 0 turns near-duplicate
# detection off (exact duplicates are always caught). 0 to 1.
WICNEWS_NEAR_DUP_THRESHOLD = 0.75
# How many stored articles sharing MinHash bands with a new text (those sharing most) are
# compared with it.
WICNEWS_NEAR_DUP_CANDIDATES = 5
# Below this similarity, two texts under one canonical URL are different articles (the
# page's canonical link is wrong: a template's section link, a wrong og:url). 0 to 1.
WICNEWS_CANONICAL_MIN_SIMILARITY = 0.3
# When to download a stored article's page again to catch edits (a new revision when its
# title or text changed): after each of these spans since it was first stored (comma
# separated, e.g. "1h,6h,24h,72h"); empty: never, unless WICNEWS_RECHECK.
WICNEWS_RECHECK_AFTER = "1h,6h,24h,72h"
# Recheck every stored article URL that the sources list again, whatever its age
# (`wicnews crawl --recheck`).
WICNEWS_RECHECK = False
# Extracted texts shorter than this many characters are not articles.
WICNEWS_MIN_TEXT_CHARS = 200
# Let public sources lead the crawler to private, loopback or link-local addresses.
WICNEWS_ALLOW_PRIVATE_ADDRESSES = False
# Seconds between two calls to a search API (GDELT, Google News search feeds): they share one
# download slot, one call at a time. GDELT asks for no more than one call every 5 seconds.
WICNEWS_API_DELAY = 5.0
# The window a monitoring cycle asks GDELT for: the last this many hours.
WICNEWS_GDELT_HOURS = 24
# Results asked of GDELT per call (maxrecords; the API gives at most 250). A backfill slice
# that comes back with this many is split in two until each slice is under it.
WICNEWS_GDELT_MAX_RECORDS = 250
# Known syndication: registrable domain of a publisher -> domains whose articles it
# republishes; its pages' canonical links to those domains are trusted (JSON, e.g.
# {"yahoo.com": ["reuters.com", "apnews.com"]}). A canonical link to another site is
# otherwise trusted only when the page names that site as its origin (meta
# syndication-source / original-source); else the page is stored under its own URL.
WICNEWS_SYNDICATION: dict[str, list[str]] = {}
# Poll feeds, sitemaps and listing pages with conditional GET (If-None-Match /
# If-Modified-Since, from the ETag / Last-Modified of their last full read); a 304, or a 200
# with the same body as last time, is not parsed again (skipped_not_modified, skipped_unchanged).
WICNEWS_CONDITIONAL_GET = True
# A source that failed WICNEWS_BACKOFF_AFTER times in a row (a passing hiccup does not
# count) is not polled again before WICNEWS_BACKOFF_START has passed, doubling with each
# further failure up to WICNEWS_BACKOFF_MAX (spans: 90s, 15m, 6h, 1d); it is then tried
# every WICNEWS_BACKOFF_MAX until it answers (skipped_backoff meanwhile).
WICNEWS_BACKOFF = True
WICNEWS_BACKOFF_AFTER = 3
WICNEWS_BACKOFF_START = "15m"
WICNEWS_BACKOFF_MAX = "6h"
# Share of U+FFFD replacement characters above which a page counts as undecodable.
WICNEWS_MAX_REPLACEMENT_RATIO = 0.01
# Keep every fetched article page (compressed, table raw_pages) so that `wicnews reextract`
# can rebuild text and metadata when the extractor improves. Off: nothing kept (less disk).
WICNEWS_KEEP_RAW_PAGES = True
# Redis URL (redis://HOST:6379/N) of a distributed crawl: processes started with the same one
# share one request queue and fingerprint set (scrapy-redis) and store into one PostgreSQL
# database. Empty: this process crawls alone (Scrapy's own scheduler).
WICNEWS_REDIS_URL = ""
# A distributed worker exits once the shared queue has been empty, with no other worker busy,
# for this many seconds (scrapy-redis's MAX_IDLE_TIME_BEFORE_CLOSE). 0: at once (nobody is
# left who could queue more); more keeps idle workers waiting for requests queued later.
WICNEWS_REDIS_IDLE_SECONDS = 0
# Webhooks file (TOML, see wicnews.webhooks): endpoints that `wicnews notify` (and `wicnews
# schedule`, after each crawl) sends new coverage to; empty means no webhooks.
WICNEWS_WEBHOOKS = ""
# Extraction worker processes (wicnews.pool): -1 = one per core, 0 = extract in the crawl's
# own process (on the reactor thread, as before the pool).
WICNEWS_EXTRACT_WORKERS = -1
# Seconds one page may take in a worker; a slower page is abandoned, counted as
# extract_timeout, and its worker killed and replaced.
WICNEWS_EXTRACT_TIMEOUT = 60.0
# Pages handed to the workers at once (queued or being extracted); 0 = 4 per worker.
WICNEWS_MAX_PAGES_IN_FLIGHT = 0
# Articles written per database transaction (at most; fewer when the crawl is slow). A
# crash loses at most one batch, which the next run stores again.
WICNEWS_STORE_BATCH = 50
# Items of one response handled at once (Scrapy's default, 100, starts 100 asyncio tasks
# for every response; a callback of this spider yields at most one item).
CONCURRENT_ITEMS = 4
# The extraction function, "module:function" (tests and experiments point it elsewhere).
WICNEWS_EXTRACT_FUNCTION = "wicnews.extract:extract_article"

# --- politeness ------------------------------------------------------------------------
USER_AGENT = "wicnews/0.1 (+https://github.com/wicnews/wicnews; news monitoring; contact: wicnews@example.org)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False

# --- limits and safety -----------------------------------------------------------------
# Longest URL requested (characters); longer ones are counted as bad_url by
# wicnews.middlewares.PrivateAddressGuard (Scrapy's UrlLengthMiddleware, which drops them
# silently at 2083, is off).
URLLENGTH_LIMIT = 8192
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None}
# The name resolver that answers a checked name with the address that was checked and
# never gives a public source's links a private answer (wicnews.guard).
TWISTED_DNS_RESOLVER = "wicnews.guard.PinningResolver"
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Only http(s): no local files, data: URIs, FTP or S3 reachable from a feed link.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
TELNETCONSOLE_ENABLED = False
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "wicnews.runlog.RunLog": 100,
}
# Scrapy >= 2.19 starts a remote-control server unless told otherwise.
REMOTE_CONTROL_ENABLED = False
HTTPCACHE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "wicnews.middlewares.PrivateAddressGuard": 40,
    "wicnews.middlewares.SkipSeenMiddleware": 50,
    # conditional GET, unchanged bodies and backoff for the sources; their health (below
    # retries at 550 and decompression at 590: it sees the final, decoded response)
    "wicnews.polling.SourcePolling": 545,
    # Scrapy's, raising exceptions that name the refusal (robots, redirect_loop)
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "wicnews.middlewares.RobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "wicnews.middlewares.MetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "wicnews.middlewares.RedirectMiddleware": 600,
}

ITEM_PIPELINES = {
    "wicnews.pipelines.normalise.NormalisePipeline": 100,
    "wicnews.pipelines.relevance.RelevancePipeline": 200,
    "wicnews.pipelines.dedupe.DedupePipeline": 300,
    "wicnews.pipelines.store.StorePipeline": 400,
}

LOG_LEVEL = "INFO"
LOG_FORMATTER = "wicnews.logformatter.LogFormatter"
