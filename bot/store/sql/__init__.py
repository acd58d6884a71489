"""The store's SQL, written once for SQLite and PostgreSQL, by concern.

Each concern (``conversations``, ``images``, ``usage``, ``settings``, ``user_data``, ``ledger``)
holds its SQL and writes each transaction once as a *program*: a generator that yields the
statements (``program.rows``/``row``/``run``/``run_many``) and gets their results back. A small
per-dialect executor runs programs: ``sqlite`` on the connection's thread in one trip (the
group-commit writer for writes, the read-only connection for reads), ``postgres`` on a pooled
asyncpg connection (in a transaction for writes), translating ``?`` to ``$n``. What the
dialects spell differently (times, JSON, row locks, a text search) is the ``Dialect``'s.
"""
