"""``wicnews status``: is the monitoring healthy? For people and for monitoring systems.

Nagios-style: one summary line (``WICNEWS OK - ...``, ``WICNEWS WARNING - ...``,
``WICNEWS CRITICAL - ...``) and the exit code 0 (OK), 1 (WARNING: a source failing
repeatedly or silent far longer than usual) or 2 (CRITICAL: the last run failed, or no run
finished within the expected cadence). A database that cannot be read exits 3 (UNKNOWN).
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from wicnews.commands import add_db_option, open_for_reading, positive


def register(sub) -> None:
    p = sub.add_parser("status", help="health check (Nagios-style): exit 0 OK, 1 warning, 2 critical")
    p.add_argument("--stale-after", default="2h", metavar="SPAN",
                   help="critical when no run finished within SPAN (default 2h: the bundled schedule runs every 30m)")
    p.add_argument("--max-failures", type=positive, default=3, metavar="N",
                   help="warn about a source that failed N times in a row (default 3)")
    p.add_argument("--silence-factor", type=float, default=10.0, metavar="X",
                   help="warn about a source with nothing new for X times its usual gap (default 10)")
    p.add_argument("--min-silence", default="2d", metavar="SPAN",
                   help="but never before SPAN without anything new (default 2d)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from wicnews.config import parse_span
    from wicnews.db import health
    from wicnews.db.engine import reason
    from wicnews.errors import DatabaseError
    from wicnews.models import utcnow

    limits = health.Thresholds(stale_after=timedelta(seconds=parse_span(args.stale_after, "--stale-after")),
                               max_failures=args.max_failures, silence_factor=args.silence_factor,
                               min_silence=timedelta(seconds=parse_span(args.min_silence, "--min-silence")))
    try:
        engine = open_for_reading(args.db)
        try:
            with Session(engine) as session:
                ended, finished = health.last_runs(session)
                states = health.all_sources(session)
                now = utcnow()
                problems = health.status_problems(now, ended, finished, states, limits)
        finally:
            engine.dispose()
    except DatabaseError as exc:  # the monitoring system reads stdout: UNKNOWN, said there
        return _unknown(str(exc), args.format)
    except SQLAlchemyError as exc:
        return _unknown(f"cannot read the database: {reason(exc)}", args.format)
    level = problems[0][0] if problems else health.OK
    if problems:
        summary = "; ".join(message for _, message in problems)
    else:
        summary = f"{len(states)} source(s) healthy, last run #{finished.id} finished" if finished else "no runs"
    line = f"WICNEWS {health.LEVELS[level]} - {summary}"
    if args.format == "json":
        json.dump({"status": health.LEVELS[level], "summary": line,
                   "problems": [{"level": health.LEVELS[lv], "message": m} for lv, m in problems],
                   "last_run": {"id": ended.id, "status": ended.status} if ended else None,
                   "last_finished_run": ({"id": finished.id, "finished_at": finished.finished_at.isoformat()}
                                         if finished and finished.finished_at else None),
                   "sources": len(states)}, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(line)
    return level


def _unknown(message: str, fmt: str) -> int:
    """UNKNOWN (exit 3): the state of the monitoring cannot be read."""
    from wicnews.commands import EXIT_DATABASE

    line = f"WICNEWS UNKNOWN - {message}"
    if fmt == "json":
        json.dump({"status": "UNKNOWN", "summary": line, "problems": [{"level": "UNKNOWN", "message": message}],
                   "last_run": None, "last_finished_run": None, "sources": None}, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(line)
    return EXIT_DATABASE
