"""Multi-row statements on either engine through the driver, without the query builder.

The ingest writes a batch's rows with a few statements instead of one per terminal or per
row; building them with peewee cost more CPU than the database spent running them
(profiled with bench/soak/store_bench.py). Values go as parameters, never into the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headoffice.orm import database_proxy, is_postgres

SQLITE_ROWS = 400  # rows per SQLite statement: far below its 32,766 parameters at <= 80 columns
PG_PAGE = 500


def run_values(sql: str, rows: Sequence[Sequence[Any]], fetch: bool = False) -> list[tuple]:
    """Runs `sql`, which holds `{values}` where the rows' VALUES list goes, for all `rows`
    in pages; returns the rows the statement returns when `fetch`."""
    if not rows:
        return []
    db = database_proxy.obj
    cursor = db.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values

        out = execute_values(cursor, sql.format(values="%s"), rows, page_size=PG_PAGE,
                             fetch=fetch)
        return list(out or [])
    one = "(" + ", ".join("?" for _ in rows[0]) + ")"
    out: list[tuple] = []
    for start in range(0, len(rows), SQLITE_ROWS):
        chunk = rows[start:start + SQLITE_ROWS]
        cursor.execute(sql.format(values=", ".join(one for _ in chunk)),
                       [v for row in chunk for v in row])
        if fetch:
            out.extend(cursor.fetchall())
    return out


def upsert(table: str, columns: Sequence[str], key: Sequence[str], rows: Sequence[Sequence[Any]],
           add: Sequence[str] = (), replace: Sequence[str] = (),
           returning: Sequence[str] = ()) -> list[tuple]:
    """INSERT ... ON CONFLICT (key) DO UPDATE: the `add` columns are summed, the `replace`
    columns take the new value; the `returning` columns of every row written, as they are
    now, are returned. Rows are written in the order given: callers sort them by key, so two
    workers lock the same rows in the same order."""
    sets = [f"{c} = {table}.{c} + EXCLUDED.{c}" for c in add]
    sets += [f"{c} = EXCLUDED.{c}" for c in replace]
    action = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES {{values}} "
           f"ON CONFLICT ({', '.join(key)}) {action}")
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return run_values(sql, rows, fetch=bool(returning))


def select_pairs(table: str, columns: Sequence[str], pairs: Sequence[tuple[str, int]]
                 ) -> list[tuple]:
    """`columns` of the rows whose (terminal, seq) is one of `pairs` (no pair twice): one
    statement per page, on both engines. A join with the VALUES list, not a row-value IN:
    SQLite, once the table is analysed, answers that IN by scanning the whole table; the join
    looks each pair up in the (terminal, seq) index."""
    out: list[tuple] = []
    picked = ", ".join(f"{table}.{c}" for c in columns)
    for start in range(0, len(pairs), SQLITE_ROWS):
        chunk = list(pairs[start:start + SQLITE_ROWS])
        sql = (f"WITH wanted (t, s) AS (VALUES {{values}}) SELECT {picked} FROM wanted "
               f"JOIN {table} ON {table}.terminal = wanted.t AND {table}.seq = wanted.s")
        out += _select(sql, chunk)
    return out


def _select(sql: str, rows: list[tuple]) -> list[tuple]:
    db = database_proxy.obj
    cursor = db.cursor()
    if is_postgres():
        cursor.execute(sql.format(values=", ".join("(%s, %s)" for _ in rows)),
                       [v for row in rows for v in row])
    else:
        cursor.execute(sql.format(values=", ".join("(?, ?)" for _ in rows)),
                       [v for row in rows for v in row])
    return cursor.fetchall()
