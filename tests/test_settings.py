"""Configuration: every component path loads, defaults are safe and polite, and settings flow
one way (module defaults < WICNEWS_* environment < -s)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from scrapy.utils.misc import load_object

from wicnews.config import build_settings as project_settings
from wicnews.errors import ConfigError


@pytest.mark.parametrize("setting", ["ITEM_PIPELINES", "EXTENSIONS", "DOWNLOADER_MIDDLEWARES"])
def test_every_component_path_loads(setting):
    paths = [p for p, order in project_settings().getdict(setting).items() if order is not None]
    assert paths
    for path in paths:
        assert callable(load_object(path)), path


@pytest.mark.e2e
def test_pipelines_load_in_a_fresh_interpreter_outside_the_repository(tmp_path):
    """`scrapy crawl` appends the project root to sys.path; the installed packages must not need it."""
    code = ("from scrapy.utils.misc import load_object; import wicnews.settings as s; "
            "[load_object(p) for p in s.ITEM_PIPELINES]; import wicnews.pipelines, wicnews.schedules; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_pipeline_order():
    order = project_settings().getdict("ITEM_PIPELINES")
    assert sorted(order, key=order.get) == ["wicnews.pipelines.normalise.NormalisePipeline", "wicnews.pipelines.relevance.RelevancePipeline",
                                            "wicnews.pipelines.dedupe.DedupePipeline", "wicnews.pipelines.store.StorePipeline"]


def test_secure_and_polite_defaults():
    s = project_settings()
    handlers = s.getdict("DOWNLOAD_HANDLERS")
    assert all(handlers[scheme] is None for scheme in ("file", "data", "ftp", "s3"))
    assert s.getbool("TELNETCONSOLE_ENABLED") is False
    assert s.getbool("REMOTE_CONTROL_ENABLED") is False
    assert s.getdict("EXTENSIONS")["scrapy.extensions.telnet.TelnetConsole"] is None
    assert s.getbool("ROBOTSTXT_OBEY") is True
    assert s.getbool("AUTOTHROTTLE_ENABLED") is True
    assert s.getfloat("DOWNLOAD_DELAY") >= 0.5
    assert 1 <= s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 4
    assert 10 * 2**20 <= s.getint("DOWNLOAD_MAXSIZE") <= 100 * 2**20
    assert "wicnews" in s.get("USER_AGENT") and "contact" in s.get("USER_AGENT")


@pytest.mark.e2e
def test_settings_flow_module_then_environment_then_command_line():
    code = ("from wicnews.config import build_settings as p; import sys; s = p(None, sys.argv[1:]); "
            "print(s.getint('WICNEWS_MAX_AGE_DAYS'), s.getbool('WICNEWS_SKIP_SEEN'), s.getfloat('DOWNLOAD_DELAY'))")
    env = {"WICNEWS_MAX_AGE_DAYS": "9", "WICNEWS_SKIP_SEEN": "false", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()
    assert out == ["9", "False", "1.0"]
    out = subprocess.run([sys.executable, "-c", code, "WICNEWS_MAX_AGE_DAYS=3", "DOWNLOAD_DELAY=0"], env=env,
                         capture_output=True, text=True).stdout.split()
    assert out == ["3", "False", "0.0"]


def test_db_flag_wins():
    assert project_settings("sqlite:///x.db").get("WICNEWS_DATABASE_URL") == "sqlite:///x.db"


@pytest.mark.parametrize("bad", ["NOEQUALS", "lower=1", "=1"])
def test_bad_overrides_are_config_errors(bad):
    with pytest.raises(ConfigError):
        project_settings(None, [bad])


@pytest.mark.parametrize(("override", "message"), [
    ("WICNEWS_SKIP_SEN=0", "did you mean WICNEWS_SKIP_SEEN?"),
    ("DOWNLOAD_DELEY=1", "did you mean DOWNLOAD_DELAY?"),
    ("LOG_LEVEL=NOPE", "expected one of CRITICAL"),
    ("ITEM_PIPELINES=garbage", "expected JSON"),
    ("DOWNLOAD_HANDLERS=garbage", "expected JSON"),
    ("DOWNLOAD_HANDLERS=[1]", "expected a JSON dict"),
    ("WICNEWS_SKIP_SEEN=maybe", "expected true or false"),
    ("CONCURRENT_REQUESTS=many", "expected a whole number"),
])
def test_every_bad_override_is_named(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        project_settings(None, [override])


def test_addon_settings_pass_and_json_settings_parse():
    s = project_settings(None, ["REDIS_URL=redis://127.0.0.1:6379/3", 'ITEM_PIPELINES={"a.B": 1}', "LOG_LEVEL=debug"])
    assert s.get("REDIS_URL") == "redis://127.0.0.1:6379/3"
    assert s.getdict("ITEM_PIPELINES") == {"a.B": 1}
    assert s.get("LOG_LEVEL") == "DEBUG"


def test_environment_is_read_when_settings_are_built_and_checked():
    assert project_settings(environ={"WICNEWS_MAX_AGE_DAYS": "4"}).getint("WICNEWS_MAX_AGE_DAYS") == 4
    assert project_settings(environ={}).getint("WICNEWS_MAX_AGE_DAYS") == 0
    with pytest.raises(ConfigError, match="unknown environment variable WICNEWS_MAX_AGE_DAY .*WICNEWS_MAX_AGE_DAYS"):
        project_settings(environ={"WICNEWS_MAX_AGE_DAY": "4"})
    with pytest.raises(ConfigError, match="expected a whole number"):
        project_settings(environ={"WICNEWS_MAX_AGE_DAYS": "four"})
    assert project_settings(environ={"WICNEWS_HOME": "/tmp/x"}).getint("WICNEWS_MAX_AGE_DAYS") == 0
