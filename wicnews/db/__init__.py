"""The data layer, split by role:

- ``engine``: engines, schema upgrades (Alembic), the locks that serialise them;
- ``articles``: the article write policy (exact and near duplicates, canonical trust);
- ``runs``: the run log's rows;
- ``queries``: what the read-only commands ask.

Callers own sessions and transactions; functions take the session. Importing this package
imports nothing heavy.
"""
