"""``wicnews notify``: send new coverage to the configured webhooks (see ``wicnews.webhooks``)."""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED, add_db_option


def register(sub) -> None:
    p = sub.add_parser("notify", help="send new coverage to the webhooks (signed JSON, retried, recorded)")
    p.add_argument("--webhooks", metavar="FILE", help="webhooks file (TOML; default: $WICNEWS_WEBHOOKS)")
    add_db_option(p)
    p.set_defaults(func=run)


def webhooks_file(given: str | None) -> str:
    from wicnews.config import environment_values

    return (given or environment_values().get("WICNEWS_WEBHOOKS") or "").strip()


def run(args) -> int:
    import logging

    from wicnews import webhooks
    from wicnews.config import database_url
    from wicnews.db.engine import open_database

    path = webhooks_file(args.webhooks)
    if not path:
        print("no webhooks configured (--webhooks FILE or WICNEWS_WEBHOOKS)")
        return 0
    hooks = webhooks.load_webhooks(path)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = open_database(database_url(args.db), must_exist=True, auto_upgrade=False)
    failed = False
    try:
        for hook in hooks:
            outcome = webhooks.notify(engine, hook)
            failed |= outcome.failed
            print(f"webhook {hook.name}: {outcome.delivered} articles delivered" + (", a batch failed" if outcome.failed
                                                                                    else ""))
    finally:
        engine.dispose()
    return EXIT_FAILED if failed else 0
