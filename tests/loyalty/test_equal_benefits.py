"""Equal benefits by construction (GDPR Art. 7(4); Belgian DPA decision 06/2019)."""

import inspect
from decimal import Decimal

import pytest

from loyalty import rules
from loyalty.models import JoinChannel
from loyalty.services import (
    member_enroll_anonymous_by_eid,
    member_enroll_by_eid,
    member_enroll_by_form,
    points_earn,
    points_redeem,
)
from tests.factories import EarningRuleFactory, RewardFactory

pytestmark = pytest.mark.django_db


def test_form_eid_and_anonymous_eid_members_end_with_identical_balances(store, cashier):
    # given one member of each of the three kinds and the same basket history
    EarningRuleFactory(store=store, points_per_euro=Decimal("1.50"))
    reward = RewardFactory(point_cost=40, stores=[store])
    form = member_enroll_by_form(
        store=store,
        given_name="Wout",
        surname="Claes",
        email="wout@example.be",
        phone="+32471111111",
    )
    eid = member_enroll_by_eid(
        store=store, given_name="Nina", surname="Hermans", eid_token="cd" * 32
    )
    anonymous = member_enroll_anonymous_by_eid(store=store, eid_token="ef" * 32)
    assert form.joined_via == JoinChannel.FORM and eid.joined_via == JoinChannel.EID
    assert anonymous.joined_via == JoinChannel.EID_ANONYMOUS and not anonymous.surname
    outcomes = {}
    for member in (form, eid, anonymous):
        entries = [
            points_earn(member=member, store=store, staff=cashier, amount=amount)
            for amount in ("12.40", "3.99", "87.00", "0.50")
        ]
        entries.append(points_redeem(member=member, store=store, staff=cashier, reward=reward))
        entries.append(points_redeem(member=member, store=store, staff=cashier, points=17))
        member.refresh_from_db()
        outcomes[member.joined_via] = ([e.points for e in entries], member.points_balance)
    # then
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID]
    assert outcomes[JoinChannel.FORM] == outcomes[JoinChannel.EID_ANONYMOUS]


def test_the_points_rule_never_receives_the_member():
    for name, fn in inspect.getmembers(rules, inspect.isfunction):
        if fn.__module__ != rules.__name__:
            continue
        params = set(inspect.signature(fn).parameters)
        assert not params & {"member", "joined_via", "channel"}, name
