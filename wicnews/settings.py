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
# Run Alembic migrations automatically when the database has no schema yet.
WICNEWS_AUTO_UPGRADE = True
# Do not download article URLs that are already stored (as article or alias URL).
WICNEWS_SKIP_SEEN = True
# Ignore feed/sitemap entries older than this many days (0 = no limit).
WICNEWS_MAX_AGE_DAYS = 0
# Jaccard similarity (4-token shingles) from which a new text is a near-duplicate of a
# stored one; 0 turns near-duplicate detection off (exact duplicates are always caught).
WICNEWS_NEAR_DUP_THRESHOLD = 0.75
# How many stored articles sharing MinHash bands with a new text are compared with it.
WICNEWS_NEAR_DUP_CANDIDATES = 20
# Below this similarity, two texts under one canonical URL are different articles (the
# page's canonical link is wrong: a template's section link, a wrong og:url).
WICNEWS_CANONICAL_MIN_SIMILARITY = 0.3
# Extracted texts shorter than this many characters are not articles.
WICNEWS_MIN_TEXT_CHARS = 200
# Let public sources lead the crawler to private, loopback or link-local addresses.
WICNEWS_ALLOW_PRIVATE_ADDRESSES = False
# Share of U+FFFD replacement characters above which a page counts as undecodable.
WICNEWS_MAX_REPLACEMENT_RATIO = 0.01
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
