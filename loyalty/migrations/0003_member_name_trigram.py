"""Trigram indexes for finding members by name at the counter, on PostgreSQL only.

SQLite has no pg_trgm: there the portal searches name prefixes on the `member_name_ci` index,
and this migration does nothing.
"""

from django.db import migrations

INDEXES = {
    "member_surname_trgm": "surname",
    "member_given_name_trgm": "given_name",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON loyalty_member "
            f"USING gin (lower({column}) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0002_eid_scan")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
