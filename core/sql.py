"""Model instances from hand-written SQL, for the few hot paths that need it.

`Model.objects.raw()` works out, on every call, which column feeds which field and which
converters apply; on the counter's hot paths that took longer than the query. Here that work
is done once per model and database: a query selects `model_columns(model, alias)`, and
`model_from_values` builds the instance from those values with `Model.from_db`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)


def model_columns(model: type[Model], alias: str) -> str:
    """Return the SELECT list of the model's concrete columns, in field order."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


@cache
def _plan(model: type[Model], using: str, vendor: str) -> tuple[list[str], list[tuple]]:
    """Return the field names in column order and, per column needing them, its converters."""
    connection = connections[using]
    compiler = connection.ops.compiler("SQLCompiler")(None, connection, using)
    fields = model._meta.concrete_fields
    cols = [field.get_col(model._meta.db_table) for field in fields]
    converters = [
        (position, funcs, col) for position, (funcs, col) in compiler.get_converters(cols).items()
    ]
    return [field.attname for field in fields], converters


def model_from_values(model: type[M], values: Sequence[Any], *, using: str = "default") -> M:
    """Return an instance from the values of `model_columns(model, ...)`, converted as the ORM
    converts them (SQLite answers datetimes as text, for one)."""
    connection = connections[using]
    names, converters = _plan(model, using, connection.vendor)
    values = list(values)
    for position, funcs, col in converters:
        for func in funcs:
            values[position] = func(values[position], col, connection)
    return model.from_db(using, names, values)
