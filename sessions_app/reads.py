"""The two reads on the whoami path, as hand-written SELECTs.

Every service in front of this one asks `/sessions/whoami` about every request it gets, so the two
reads whoami makes (a session with its identity; both kinds of address) are written once per
process: building and compiling them with the ORM cost 0.7 and 1.6 ms on the benchmark machine,
several times what SQLite takes to answer them (bench/sessions.py, docs/benchmarks.md). Their rows
become model instances as the ORM makes them (the backend's converters, then `Model.from_db`), and
they filter by the bound network themselves, as the scoped manager would. On PostgreSQL they are
prepared statements (see `_cursor`).
tests/sessions/test_whoami_reads.py checks on every backend that they return what the ORM returns.
"""
from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col

from identities.models import Identity, RecoveryAddress, VerifiableAddress
from kratos_project.tenancy import current_nid
from sessions_app.models import Session


def session_with_identity(token_hash: str) -> Session | None:
    """What `Session.objects.select_related("identity").filter(token_hash=…).first()` returns."""
    connection = _connection()
    session_columns, identity_columns = _columns(Session), _columns(Identity)
    rows = _select(connection, _session_sql(), [_db_uuid(connection, current_nid()), token_hash])
    if not rows:  # (nid, token_hash) is unique: one row at most
        return None
    width = len(session_columns.fields)
    session = session_columns.instance(connection, rows[0][:width])
    Session.identity.field.set_cached_value(session, identity_columns.instance(connection, rows[0][width:]))
    return session


def addresses_of(identity_ids: Iterable[uuid.UUID]) -> list[VerifiableAddress | RecoveryAddress]:
    """Both kinds of address of these identities in one query (see `_addresses_sql`)."""
    connection = _connection()
    verifiable, recovery = _columns(VerifiableAddress), _columns(RecoveryAddress)
    nid, ids = _db_uuid(connection, current_nid()), [_db_uuid(connection, i) for i in identity_ids]
    placeholders = ", ".join(["%s"] * len(ids))
    verifiable_sql, recovery_sql = _addresses_sql()
    sql = f"{verifiable_sql}{placeholders}) UNION ALL {recovery_sql}{placeholders})"
    addresses: list[VerifiableAddress | RecoveryAddress] = []
    for *values, is_verifiable in _select(connection, sql, [nid, *ids, nid, *ids]):
        if is_verifiable:
            addresses.append(verifiable.instance(connection, values))
        else:
            by_attname = dict(zip(verifiable.attnames, values, strict=True))
            addresses.append(recovery.instance(connection, [by_attname[name] for name in recovery.attnames]))
    return addresses


# One database serves every model here, so the SQL and the converters are cached per process (the
# converters depend on the backend and the settings only, not on the connection they came from).


@dataclass(frozen=True)
class _Columns:
    """All concrete columns of a model: as a SELECT list, and from a row back into an instance."""

    model: type[Model]
    fields: tuple[Field, ...]
    attnames: tuple[str, ...]
    # Per column: the expression the ORM's converters expect, and those converters.
    converters: tuple[tuple[Col, tuple[Callable[..., Any], ...]], ...]

    def select(self, table: str) -> str:
        quote = _connection().ops.quote_name
        return ", ".join(f"{table}.{quote(f.column)}" for f in self.fields)

    def instance(self, connection: BaseDatabaseWrapper, values: Sequence[Any]) -> Model:
        """SQLCompiler.apply_converters for one row, then what the ORM's model iterable does with it."""
        converted = []
        for value, (column, functions) in zip(values, self.converters, strict=True):
            for function in functions:
                value = function(value, column, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)


@functools.cache
def _columns(model: type[Model]) -> _Columns:
    connection = _connection()
    fields = tuple(model._meta.concrete_fields)
    columns = [field.get_col(model._meta.db_table) for field in fields]
    converters = tuple((column, tuple(connection.ops.get_db_converters(column) + column.get_db_converters(connection)))
                       for column in columns)
    return _Columns(model, fields, tuple(f.attname for f in fields), converters)


@functools.cache
def _session_sql() -> str:
    """The session with its identity by (nid, token_hash): the session table's unique index."""
    quote = _connection().ops.quote_name

    def column(model: type[Model], name: str) -> str:
        return quote(model._meta.get_field(name).column)

    return (f"SELECT {_columns(Session).select('s')}, {_columns(Identity).select('i')}"
            f" FROM {quote(Session._meta.db_table)} s"
            f" JOIN {quote(Identity._meta.db_table)} i ON i.{column(Identity, 'id')} = s.{column(Session, 'identity')}"
            f" WHERE s.{column(Session, 'nid')} = %s AND s.{column(Session, 'token_hash')} = %s")


@functools.cache
def _addresses_sql() -> tuple[str, str]:
    """The two halves of a UNION ALL of both address tables by (nid, identity ids), each ending in
    `IN (` for the caller's placeholders. Its columns are VerifiableAddress's plus a marker, 1 for a
    verifiable address; a recovery address has a subset of them, the others are NULL in its rows."""
    quote = _connection().ops.quote_name
    fields, recovery_attnames = _columns(VerifiableAddress).fields, set(_columns(RecoveryAddress).attnames)

    def half(model: type[Model], select: str, marker: int) -> str:
        return (f"SELECT {select}, {marker} FROM {quote(model._meta.db_table)}"
                f" WHERE {quote(model._meta.get_field('nid').column)} = %s"
                f" AND {quote(model._meta.get_field('identity').column)} IN (")

    return (half(VerifiableAddress, ", ".join(quote(f.column) for f in fields), 1),
            half(RecoveryAddress, ", ".join(quote(f.column) if f.attname in recovery_attnames else "NULL"
                                            for f in fields), 0))


def _connection() -> BaseDatabaseWrapper:
    return connections[router.db_for_read(Session)]


def _db_uuid(connection: BaseDatabaseWrapper, value: uuid.UUID) -> Any:
    """A UUID as the columns store it (a native uuid, or 32 hex characters where there is none)."""
    return Session._meta.pk.get_db_prep_value(value, connection)


def _select(connection: BaseDatabaseWrapper, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """`connection.cursor()`; on PostgreSQL, around a psycopg cursor that prepares its statements.

    Parsing and planning whoami's two statements were most of what PostgreSQL spent on a whoami;
    prepared, they are parsed and planned once per connection, then only run (docs/benchmarks.md).
    Django never prepares (its PostgreSQL cursors bind parameters client-side, for the sake of
    connection poolers; settings.KRATOS_PG_PREPARE says when that matters). A plain `psycopg.Cursor`
    binds them server-side (the `%s` placeholders become `$1`, `$2`…) and can prepare. Everything
    else is what `connection.cursor()` does: the health check and connect first, then Django's
    wrapper, so these queries are logged and counted, go through execute wrappers, and raise
    Django's database errors.

    The address statement differs with the number of identities: a page of sessions prepares one
    for its count. psycopg keeps the 100 last used per connection and deallocates older ones.
    """
    if connection.vendor != "postgresql" or not settings.KRATOS_PG_PREPARE:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    # Django connects with prepare_threshold=None, which disables preparing on the connection; 0
    # prepares a statement the first time it runs. Only server-side binding cursors consult it, and
    # this is the only one: every other query stays unprepared.
    connection.connection.prepare_threshold = 0
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))  # wrapped as cursor() wraps
