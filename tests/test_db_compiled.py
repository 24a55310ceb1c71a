"""core.db.compiled: the ORM's SQL built once, run with new values, the same instances out."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.db.compiled import CompiledQuery, instances_from_rows
from stores.models import StaffToken, Store
from stores.services import staff_token_create


def _by_key():
    return CompiledQuery(StaffToken, lambda key: StaffToken.objects.filter(token_key=key), 1)


@pytest.mark.django_db
def test_a_compiled_query_returns_what_the_queryset_returns(cashier):
    token, _text = staff_token_create(user=cashier)
    token = StaffToken.objects.get(pk=token.pk)
    query = _by_key()
    for _ in range(2):  # compiled the first time, reused the second
        [found] = query.run(token.token_key)
        assert [getattr(found, f.attname) for f in StaffToken._meta.concrete_fields] == [
            getattr(token, f.attname) for f in StaffToken._meta.concrete_fields
        ]
        # The datetimes come back as the ORM gives them (SQLite sends text).
        assert found.created == token.created and found.created.tzinfo is not None
        assert found._state.adding is False and found._state.db == "default"
    assert query.run("nosuchkey") == []


@pytest.mark.django_db
def test_a_compiled_query_is_one_statement_with_the_value_as_a_parameter(cashier, store):
    staff_token_create(user=cashier)
    query = _by_key()
    query.run("x")
    hostile = "'; DROP TABLE stores_store; --"
    with CaptureQueriesContext(connection) as seen:
        assert query.run(hostile) == []
    assert len(seen.captured_queries) == 1
    assert Store.objects.filter(pk=store.pk).exists()
    assert "DROP" not in query._compiled[("default", connection.vendor)][0]


def test_only_plain_whole_row_querysets_compile(db):
    for build in (
        lambda key: StaffToken.objects.filter(token_key=key).select_related("user"),
        lambda key: StaffToken.objects.filter(token_key=key).only("digest"),
        lambda key: StaffToken.objects.filter(token_key=key).values("digest"),
        lambda key: StaffToken.objects.filter(token_key=key, expiry__lte=timezone.now()),
    ):
        with pytest.raises(ValueError):
            CompiledQuery(StaffToken, build, 1).run("k")
    with pytest.raises(ValueError):
        CompiledQuery(Store, lambda key: StaffToken.objects.filter(token_key=key), 1).run("k")
    with pytest.raises(TypeError):
        _by_key().run()


@pytest.mark.django_db
def test_rows_of_hand_written_sql_become_the_instances_a_queryset_gives(store):
    from loyalty.models import Member
    from tests.factories import MemberFactory

    member = MemberFactory(home_store=store)
    expected = Member.objects.get(pk=member.pk)
    columns = ", ".join(f.column for f in Member._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM loyalty_member WHERE id = %s", [member.pk])  # noqa: S608
        rows = cursor.fetchall()
    for _ in range(2):  # converters worked out once, then reused
        [found] = instances_from_rows(Member, rows, using="default")
        for field in Member._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert found.created_at.tzinfo is not None and found._state.adding is False
