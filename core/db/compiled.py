"""Querysets the ORM compiles once per process, for the few statements every request runs.

Building a queryset and compiling it to SQL costs the ORM more CPU than PostgreSQL takes to
run a primary-key or unique-index read. `CompiledQuery` lets the ORM write the SQL once per
database alias, from a queryset whose values are markers, and then runs that same SQL with the
real values bound as parameters (nothing from input ever goes into the SQL text). Rows become
model instances as the queryset would have made them. Only plain model querysets qualify: no
`select_related`, annotations, `values()` or deferred fields; anything else is refused when it
is first compiled, so a change to the queryset cannot silently return something else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet


class _Marker(str):
    """A value the queryset is built with, to be found again among the compiled parameters."""


class CompiledQuery:
    """`build(*markers) -> QuerySet`, compiled by the ORM on first use per alias, then reused.

    `run(*values)` returns the list of instances the queryset built with those values would.
    The markers are strings: the values go to text columns (a key, a code), compared as the
    ORM compares them.
    """

    def __init__(self, model, build: Callable[..., QuerySet], arity: int):
        self.model = model
        self.build = build
        self.arity = arity
        self._compiled: dict[tuple[str, str], tuple[str, list[int]]] = {}
        self._lock = threading.Lock()

    def _compile(self, alias: str):
        markers = [_Marker(f"\x00compiled-query-value-{i}\x00") for i in range(self.arity)]
        queryset = self.build(*markers)
        query = queryset.query
        if (
            queryset._fields is not None
            or query.select_related
            or query.annotation_select
            or query.deferred_loading != (frozenset(), True)
            or queryset._prefetch_related_lookups
            or query.is_sliced
        ):
            raise ValueError("CompiledQuery takes a plain model queryset only.")
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        positions = []
        for param in params:
            if not isinstance(param, _Marker):
                raise ValueError("Every parameter of a CompiledQuery must come from its values.")
            positions.append(markers.index(param))
        model = queryset.model
        if model is not self.model:
            raise ValueError("CompiledQuery: the queryset is not of the model named.")
        attnames = [col.target.attname for col, _alias, _sql in compiler.select]
        if [f.attname for f in model._meta.concrete_fields] != attnames:
            raise ValueError("CompiledQuery reads whole rows only.")
        return sql, positions

    def run(self, *values) -> list:
        if len(values) != self.arity:
            raise TypeError(f"Expected {self.arity} values, got {len(values)}.")
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(alias)
                self._compiled[key] = compiled
        sql, positions = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, [values[i] for i in positions])
            rows = cursor.fetchall()
        return instances_from_rows(self.model, rows, using=alias)


_ROW_CONVERTERS: dict[tuple[type, str, str], list[Any]] = {}


def instances_from_rows(model, rows, *, using: str) -> list:
    """Make model instances from rows of all the model's concrete columns, in field order, as a
    queryset would (the ORM's converters applied: SQLite's datetimes, JSON, decimals), for
    hand-written SQL that selects them (`m.*` or the columns listed in field order)."""
    connection = connections[using]
    key = (model, using, connection.vendor)
    converters = _ROW_CONVERTERS.get(key)
    if converters is None:
        compiler = model._base_manager.all().query.get_compiler(using=using)
        compiler.setup_query()
        converters = list(
            compiler.get_converters([col for col, _alias, _sql in compiler.select]).items()
        )
        _ROW_CONVERTERS[key] = converters
    attnames = [f.attname for f in model._meta.concrete_fields]
    out = []
    for row in rows:
        if converters:
            row = _converted(row, converters, connection)
        out.append(model.from_db(using, attnames, row))
    return out


def _converted(row, converters, connection) -> list:
    row = list(row)
    for pos, (functions, expression) in converters:
        value = row[pos]
        for convert in functions:
            value = convert(value, expression, connection)
        row[pos] = value
    return row
