"""StrictInputMixin copies declared fields shallowly: each serializer still has its own."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from core.api import StrictInputMixin


class Nested(serializers.Serializer):
    n = serializers.IntegerField()


class Example(StrictInputMixin, serializers.Serializer):
    name = serializers.CharField(max_length=5)
    amount = serializers.DecimalField(max_digits=6, decimal_places=2)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    extra = serializers.CharField(required=False, default=None, allow_null=True)
    bag = serializers.JSONField(required=False, default={})  # a mutable default
    nested = Nested(required=False)


def test_each_serializer_binds_its_own_fields():
    one, two = Example(data={}), Example(data={})

    for name in ("name", "amount", "tags", "extra", "bag", "nested"):
        assert one.fields[name] is not two.fields[name]
        assert one.fields[name].parent is one and two.fields[name].parent is two
        assert one.fields[name] is not Example._declared_fields[name]


def test_validation_answers_as_drf_does():
    good = Example(data={"name": "ann", "amount": "1.50", "tags": ["a"], "nested": {"n": 2}})
    bad = Example(data={"name": "annabel", "amount": "x", "tags": "a", "other": 1})

    assert good.is_valid(), good.errors
    assert good.validated_data["amount"] == Decimal("1.50")
    assert good.validated_data["nested"] == {"n": 2}
    assert not bad.is_valid()
    assert set(bad.errors) == {"other"}  # unknown keys are refused first
    bad = Example(data={"name": "annabel", "amount": "x", "tags": "a"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"name", "amount", "tags"}


@pytest.mark.parametrize("rounds", [2])
def test_a_mutable_default_is_not_shared_between_requests(rounds):
    seen = []
    for _ in range(rounds):
        s = Example(data={"name": "a", "amount": "1"})
        assert s.is_valid(), s.errors
        s.validated_data["bag"]["touched"] = True
        seen.append(s.validated_data["bag"])
    assert seen[0] is not seen[1]
    assert Example._declared_fields["bag"].default == {}
