"""core.sql: instances built from hand-written SQL equal the ORM's, on either database."""

import pytest
from django.db import connection

from core.sql import model_columns, model_from_values
from loyalty.models import Member
from tests.factories import MemberFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "make",
    [
        lambda: MemberFactory(),
        lambda: MemberFactory(email=None, phone=None),
        lambda: StaffFactory(),
    ],
)
def test_an_instance_from_values_equals_the_orms(store, make):
    # given
    obj = make()
    model = type(obj)
    table = model._meta.db_table

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(model, 't')} FROM {table} t WHERE t.id = %s",  # noqa: S608
            [obj.pk],
        )
        built = model_from_values(model, cursor.fetchone())

    # then: every field, datetimes included (SQLite answers them as text)
    loaded = model.objects.get(pk=obj.pk)
    fields = [f.attname for f in model._meta.concrete_fields]
    assert {f: getattr(built, f) for f in fields} == {f: getattr(loaded, f) for f in fields}
    assert not built._state.adding


def test_a_member_from_values_saves_like_a_loaded_one(store):
    member = MemberFactory(given_name="Ann")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(Member, 'm')} FROM loyalty_member m WHERE m.id = %s",  # noqa: S608
            [member.pk],
        )
        built = model_from_values(Member, cursor.fetchone())

    built.given_name = "Anna"
    built.save(update_fields=["given_name"])

    assert Member.objects.get(pk=member.pk).given_name == "Anna"
