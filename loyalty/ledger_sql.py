"""The loyalty app's hand-written SQL, and only here: the counter's hottest statements.

The member's row lock, the one-statement earn, and the lookup that finds a member and records
the read in one round trip. The ORM took longer to build these statements than the database
takes to run them. They touch loyalty's own tables only; `tests/loyalty/test_ledger_sql.py`
runs the same cases through this module and the portable ORM path, on SQLite and PostgreSQL,
and holds them to one answer. Table and column names are the models' own; nothing from input
is put into the SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from core.db.compiled import instances_from_rows
from loyalty.models import EidCard, EntryKind, Member

_MEMBER_FIELDS = [f.attname for f in Member._meta.concrete_fields]
_MEMBER_COLUMNS = ", ".join(f"m.{Member._meta.get_field(n).column}" for n in _MEMBER_FIELDS)


def _facts_columns(*, capped: Sequence[int], first_at_store: int | None) -> tuple[list, list]:
    """Columns reading what campaign conditions may know of member `m` (see
    `loyalty.selectors.member_facts`): their uses of each capped campaign, and whether they
    never earned at the store. Portable SQL (SQLite answers the NOT EXISTS with 0 or 1)."""
    columns, params = [], []
    for i, campaign_id in enumerate(capped):
        columns.append(
            "(SELECT COUNT(*) FROM loyalty_campaignapplication a"  # noqa: S608 - i is an int
            f" WHERE a.member_id = m.id AND a.campaign_id = %s) AS uses_{i}"
        )
        params.append(campaign_id)
    if first_at_store is not None:
        columns.append(
            "NOT EXISTS (SELECT 1 FROM loyalty_ledgerentry f"
            " WHERE f.member_id = m.id AND f.store_id = %s AND f.kind = %s) AS first_at_store"
        )
        params += [first_at_store, EntryKind.EARN]
    return columns, params


def _facts_of(row, *, capped: Sequence[int], first_at_store: int | None) -> tuple[dict, bool]:
    uses = {cid: n for cid, n in zip(capped, row, strict=False) if n}
    first = bool(row[len(capped)]) if first_at_store is not None else False
    return uses, first


def member_lock(
    member_id: int,
    *,
    store_id: int | None = None,
    idempotency_key: str | None = None,
    capped: Sequence[int] = (),
    first_at_store: int | None = None,
) -> tuple[Member, dict[int, int], bool] | None:
    """Lock the member's row (FOR UPDATE where the database has it) and return it fresh.

    With an idempotency key the same query reads `replayed_id`: the entry an earlier call with
    this key wrote at the store (None if none). With `capped` (campaign ids) and
    `first_at_store` (a store id) it also reads the member's uses of those campaigns and
    whether they never earned at that store, returned beside the member as (uses, first).
    None when there is no such member.
    """
    columns, params = [_MEMBER_COLUMNS], []
    if idempotency_key:
        # (store, idempotency_key) is unique: at most one row.
        columns.append(
            "(SELECT e.id FROM loyalty_ledgerentry e"
            " WHERE e.store_id = %s AND e.idempotency_key = %s)"
        )
        params += [store_id, idempotency_key]
    facts, facts_params = _facts_columns(capped=capped, first_at_store=first_at_store)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {', '.join(columns + facts)} FROM loyalty_member m WHERE m.id = %s{lock}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *facts_params, member_id])
        row = cursor.fetchone()
    if row is None:
        return None
    width = len(_MEMBER_FIELDS)
    [member] = instances_from_rows(Member, [row[:width]], using=connection.alias)
    row = row[width:]
    member.replayed_id = None
    if idempotency_key:
        member.replayed_id, row = row[0], row[1:]
    uses, first = _facts_of(row, capped=capped, first_at_store=first_at_store)
    return member, uses, first


def member_facts_row(
    member_id: int, *, capped: Sequence[int], first_at_store: int | None
) -> tuple[str, str, dict[int, int], bool] | None:
    """Return the member's status, tier, uses of the `capped` campaigns and whether they never
    earned at `first_at_store`, in one statement, without a lock (a quote). None if no member."""
    facts, params = _facts_columns(capped=capped, first_at_store=first_at_store)
    sql = (
        f"SELECT {', '.join(['m.status', 'm.tier', *facts])} FROM loyalty_member m WHERE m.id = %s"  # noqa: S608
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, member_id])
        row = cursor.fetchone()
    if row is None:
        return None
    uses, first = _facts_of(row[2:], capped=capped, first_at_store=first_at_store)
    return row[0], row[1], uses, first


# An earn on PostgreSQL in one statement, so in one round trip with no BEGIN and COMMIT of
# its own: the UPDATE locks the member row and moves the balance (an earn never makes it
# negative), the INSERT appends the entry with the balance it left, and nothing is written
# when an entry with this idempotency key exists at the store, or when the member owes points
# from a return (the portable path takes those first). Same effect as `_earn_locked`.
EARN_SQL = """
    WITH replay AS (
        SELECT e.id FROM loyalty_ledgerentry e
        WHERE e.store_id = %(store)s AND e.idempotency_key = %(key)s
    ), member AS (
        UPDATE loyalty_member
        SET points_balance = points_balance + %(points)s,
            tier_points = tier_points + %(points)s,
            last_activity_at = %(at)s,
            updated_at = %(now)s
        WHERE id = %(member)s AND status = %(active)s AND points_owed = 0
          AND NOT EXISTS (SELECT 1 FROM replay)
        RETURNING id, points_balance
    ), entry AS (
        INSERT INTO loyalty_ledgerentry (
            member_id, store_id, staff_id, kind, points, balance_after, purchase_amount,
            reference, detail, idempotency_key, created_at
        )
        SELECT member.id, %(store)s, CAST(%(staff)s AS bigint), %(kind)s, %(points)s,
               member.points_balance, CAST(%(amount)s AS numeric), %(reference)s,
               CAST(%(detail)s AS jsonb), CAST(%(key)s AS varchar), %(at)s
        FROM member
        RETURNING id, balance_after
    )
    SELECT (SELECT id FROM replay),
           (SELECT id FROM entry),
           (SELECT balance_after FROM entry),
           m.status,
           m.points_balance,
           m.points_owed
    FROM (SELECT 1) one LEFT JOIN loyalty_member m ON m.id = %(member)s
"""


def earn_row(params: dict[str, Any]) -> tuple:
    """Run `EARN_SQL` (PostgreSQL only); return (replayed id, entry id, balance after the
    entry, member status, member balance, points owed)."""
    with connection.cursor() as cursor:
        cursor.execute(EARN_SQL, params)
        return cursor.fetchone()


# An earn decided under the member's lock (campaigns, tiers; `_earn_locked`), written in one
# statement on PostgreSQL: the member's balance and tier fields as decided, the entry, and one
# row per campaign that applied, instead of three ORM writes. The caller holds the row lock, so
# the values set are the locked row's own, moved by this earn.
EARN_LOCKED_WRITE_SQL = """
    WITH member AS (
        UPDATE loyalty_member
        SET points_balance = %(balance)s,
            tier_points = %(tier_points)s,
            tier = %(tier)s,
            tier_kept_until = %(tier_kept_until)s,
            points_owed = %(owed)s,
            last_activity_at = %(at)s,
            updated_at = %(now)s
        WHERE id = %(member)s
        RETURNING id
    ), entry AS (
        INSERT INTO loyalty_ledgerentry (
            member_id, store_id, staff_id, kind, points, balance_after, purchase_amount,
            reference, detail, idempotency_key, created_at
        )
        SELECT member.id, %(store)s, CAST(%(staff)s AS bigint), %(kind)s, %(points)s,
               %(balance)s, CAST(%(amount)s AS numeric), %(reference)s,
               CAST(%(detail)s AS jsonb), CAST(%(key)s AS varchar), %(at)s
        FROM member
        RETURNING id
    ), applied AS (
        INSERT INTO loyalty_campaignapplication (campaign_id, member_id, entry_id, applied_on)
        SELECT c, %(member)s, entry.id, %(applied_on)s
        FROM entry, unnest(CAST(%(campaigns)s AS bigint[])) AS c
    )
    SELECT id FROM entry
"""


def earn_locked_write(params: dict[str, Any]) -> int | None:
    """Run `EARN_LOCKED_WRITE_SQL` (PostgreSQL only, under the member's lock); return the new
    entry's id (None if the member row is gone)."""
    with connection.cursor() as cursor:
        cursor.execute(EARN_LOCKED_WRITE_SQL, params)
        row = cursor.fetchone()
    return row[0] if row else None


# A counter lookup by number, and the record of that read, in one statement (PostgreSQL).
MEMBER_FIND_SQL = f"""
    WITH found AS (
        SELECT {_MEMBER_COLUMNS}, e.id AS eid_card_id
        FROM loyalty_member m LEFT JOIN loyalty_eidcard e ON e.member_id = m.id
        WHERE m.number = %(number)s
    ), recorded AS (
        INSERT INTO loyalty_memberread (member_id, staff_id, store_id, found_by, kind, read_at)
        SELECT found.id, %(staff)s, %(store)s, %(found_by)s, %(kind)s, %(at)s FROM found
    )
    SELECT * FROM found
"""  # noqa: S608


def members_by_number_recorded(
    number: str, *, staff_id: int, store_id: int, found_by: str, kind: str, at
) -> list[tuple[Member, int | None]]:
    """Return the member with this number (0 or 1) and their eID card link's id, recording
    the read, in one statement (PostgreSQL only)."""
    params = {
        "number": number,
        "staff": staff_id,
        "store": store_id,
        "found_by": found_by,
        "kind": kind,
        "at": at,
    }
    with connection.cursor() as cursor:
        cursor.execute(MEMBER_FIND_SQL, params)
        rows = cursor.fetchall()
    width = len(_MEMBER_FIELDS)
    members = instances_from_rows(Member, [row[:width] for row in rows], using=connection.alias)
    return [(member, row[width]) for member, row in zip(members, rows, strict=True)]


def eid_card_stand_in(member: Member, card_id: int | None) -> EidCard | None:
    """Return an unsaved-looking EidCard for a link the statement found (id and member only)."""
    if card_id is None:
        return None
    return EidCard.from_db(connection.alias, ["id", "member_id"], [card_id, member.pk])
