"""``wicnews db upgrade|current``: the database schema."""

from __future__ import annotations

from wicnews.commands import add_db_option
from wicnews.errors import DatabaseError


def register(sub) -> None:
    p = sub.add_parser("db", help="database schema: upgrade or show the current revision")
    p.add_argument("action", choices=("upgrade", "current"))
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from alembic.util.exc import CommandError as AlembicCommandError
    from sqlalchemy.exc import SQLAlchemyError

    from wicnews.config import database_url
    from wicnews.db import engine as db

    url = db.resolve_url(database_url(args.db))
    if args.action == "current":  # reading the revision must not create the database
        db.open_database(url, must_exist=True, read_only=True, check_schema=False).dispose()
    engine = db.make_engine(url)
    try:
        if args.action == "upgrade":
            with db.schema_lock(engine):
                db.upgrade(engine)
        print(f"{db.safe_url(str(engine.url))}: schema {db.current_revision(engine) or 'none'} (latest {db.head_revision()})")
    except (SQLAlchemyError, AlembicCommandError, OSError) as exc:  # driver, Alembic and file errors: one line
        reason = db.reason(exc) if not isinstance(exc, OSError) else (exc.strerror or str(exc))
        raise DatabaseError(f"cannot {args.action} database {db.safe_url(str(engine.url))}: {reason}") from None
    finally:
        engine.dispose()
    return 0
