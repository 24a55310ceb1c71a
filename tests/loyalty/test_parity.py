"""The equal-benefits parity check (loyalty.services.parity) against a chain's configuration."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from loyalty import tasks
from loyalty.models import JoinChannel, ParityRun, WebhookEvent
from loyalty.services import earn, webhooks
from loyalty.services.parity import (
    PARITY_CASES,
    PARITY_RUNS_KEPT,
    parity_check,
    parity_check_run,
)
from stores.models import Campaign, Store, Tier
from stores.selectors import earning_terms_forget
from tests.factories import EarningRuleFactory, MemberFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(store):
    """A chain as head office sets one up: two stores, tiers and every kind of campaign."""
    EarningRuleFactory(store=store, points_per_euro=Decimal("1.50"), rounding="nearest")
    liege = StoreFactory(code="LIE01", name="Liège", language="fr")
    EarningRuleFactory(store=liege, points_per_euro=Decimal("1"), pending_days=14)
    StoreFactory(code="OLD01", is_active=False)
    Tier.objects.create(code="silver", name="Silver", threshold=60, multiplier=Decimal("1.25"))
    Tier.objects.create(code="gold", name="Gold", threshold=400, multiplier=Decimal("1.5"))
    now = timezone.now()
    window = {"starts_at": now - timedelta(days=3), "ends_at": now + timedelta(days=30)}
    campaigns = [
        {"name": "Koffie x2", "product_codes": ["KOFFIE"], "multiplier": Decimal("2")},
        {"name": "Bio", "categories": ["bio"], "points_per_product": 3, "combination": "add"},
        {"name": "Big basket", "minimum_amount": Decimal("50"), "coupon_value": Decimal("5")},
        {"name": "Welcome", "trigger": "join", "bonus_points": 25},
        {"name": "First visit", "trigger": "first_store", "bonus_points": 10, "store": liege},
        {"name": "Silver bonus", "tiers": ["silver"], "bonus_points": 7, "combination": "add"},
        {"name": "First 3", "bonus_points": 4, "max_total": 3, "combination": "add"},
        {"name": "Twice each", "bonus_points": 2, "max_per_member": 2, "combination": "add"},
        {"name": "Free coffee", "coupon_product": "Coffee", "max_per_member": 1},
    ]
    for fields in campaigns:
        Campaign.objects.create(**window, **fields)
    Campaign.objects.create(
        name="Over", bonus_points=99, starts_at=now - timedelta(days=9), ends_at=now
    )
    earning_terms_forget(store_id=None)
    return [store, liege]


def test_the_check_passes_on_a_lawful_configuration_and_exercises_it(chain):
    result = parity_check(seed=7)

    assert result.passed, result.difference
    assert result.cases == PARITY_CASES
    # the members earned, used campaigns, got coupons and reached a tier
    assert result.seen["entries"] > PARITY_CASES * 3
    assert result.seen["campaign_uses"] > 0
    assert result.seen["coupons"] > 0
    assert result.seen["tiers"] > 0


def favour_form_members(monkeypatch):
    """Inject the bug the check exists for: one more point per purchase for form members,
    decided under the member's lock as a campaign's points are (SQLite and PostgreSQL alike,
    wherever the earn reads the member: the chain has tiers)."""
    earn_locked = earn._earn_locked

    def biased(*, member, decide=None, **kwargs):
        if member.joined_via == JoinChannel.FORM and decide is not None:

            def decide(facts, decide=decide):
                outcome = decide(facts)
                return dataclasses.replace(outcome, points=outcome.points + 1)

        return earn_locked(member=member, decide=decide, **kwargs)

    monkeypatch.setattr(earn, "_earn_locked", biased)


def test_a_rule_that_depends_on_the_channel_is_found(chain, monkeypatch):
    # given: a channel-dependent earn
    favour_form_members(monkeypatch)

    # when
    run = parity_check_run(seed=7)

    # then: failed, at the first purchase, with the eID member's points beside the form's
    assert run.passed is False
    assert run.cases == 1
    detail = run.detail
    assert (detail["aspect"], detail["channel"]) == ("steps", JoinChannel.EID)
    assert detail["step"]["kind"] == "purchase" and detail["step"]["n"] == 1
    assert int(detail["form"]) == int(detail["other"]) + 1
    store = detail["step"]["store"]
    assert run.difference == (
        f"case 1, purchase 1 at {store}: form member {detail['form']}, eid member {detail['other']}"
    )


def test_a_difference_at_the_end_only_is_found_too(chain, monkeypatch):
    # given: a tier recompute that puts form members one point higher in the tier count
    from loyalty.services import tiers

    recompute = tiers.member_tier_recompute

    def biased(*, member_id, now=None):
        member = recompute(member_id=member_id, now=now)
        if member is not None and member.joined_via == JoinChannel.FORM:
            member.tier_points += 1
            member.save(update_fields=["tier_points"])
        return member

    monkeypatch.setattr("loyalty.services.parity.member_tier_recompute", biased)

    result = parity_check(seed=3)

    assert not result.passed
    assert result.detail["aspect"] == "tier"


def _row_counts() -> dict[str, int]:
    return {
        m._meta.label: m._base_manager.count()
        for m in apps.get_models(include_auto_created=True)
        if m is not ParityRun
    }


def test_nothing_the_made_up_members_did_survives(chain, run_on_commit, caplog):
    # given: a real member, and a till subscribed to every event
    MemberFactory(home_store=chain[0], email="real@example.be")
    with transaction.atomic():
        webhooks.webhook_endpoint_add(
            name="Till",
            url="https://till.example.be/hook",
            events=[e.value for e in WebhookEvent],
            created_by=None,
        )
    webhooks.webhook_endpoints_forget()
    before = _row_counts()

    # when
    with run_on_commit() as callbacks:
        run = parity_check_run(seed=11)

    # then: one result, and not a row more or less anywhere; nothing sent
    assert run.passed, run.difference
    assert _row_counts() == before
    assert ParityRun.objects.count() == 1
    assert callbacks == []
    assert mail.outbox == []
    assert "real@example.be" not in caplog.text
    assert "Parity" not in str(run.detail) + run.difference


def test_the_same_seed_checks_the_same_cases(chain, monkeypatch):
    favour_form_members(monkeypatch)

    first, second = parity_check(seed=5), parity_check(seed=5)

    assert first.detail == second.detail


def test_only_the_recent_runs_are_kept(store):
    EarningRuleFactory(store=store)
    earning_terms_forget(store_id=None)
    for n in range(PARITY_RUNS_KEPT + 2):
        parity_check_run(seed=n, cases=1)

    kept = list(ParityRun.objects.values_list("seed", flat=True))
    assert len(kept) == PARITY_RUNS_KEPT
    assert kept[0] == PARITY_RUNS_KEPT + 1 and 0 not in kept and 1 not in kept


def test_a_chain_without_an_open_store_fails_the_check(db):
    Store.objects.update(is_active=False)

    run = parity_check_run(seed=1)

    assert not run.passed and run.cases == 0
    assert run.detail == {"aspect": "no_store"}


def test_a_check_that_breaks_is_kept_as_a_failure(chain, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr("loyalty.services.parity.points_earn", broken)

    run = parity_check_run(seed=1)

    assert not run.passed
    assert run.detail == {"aspect": "error", "error": "RuntimeError"}
    assert "engine down" not in run.difference


def test_the_task_runs_the_check_and_keeps_the_result(chain):
    assert tasks.parity_check() is True
    assert ParityRun.objects.get().passed


def test_the_command_runs_it_now(chain):
    out = io.StringIO()
    call_command("parity_check", "--seed", "7", stdout=out)

    run = ParityRun.objects.get()
    assert run.seed == 7 and run.passed
    assert f"passed: {PARITY_CASES} case(s), seed 7" in out.getvalue()


def test_the_command_exits_non_zero_on_a_difference(chain, monkeypatch):
    favour_form_members(monkeypatch)

    with pytest.raises(CommandError, match="parity check failed: case 1, purchase 1 at "):
        call_command("parity_check", "--seed", "7", stdout=io.StringIO())
    assert ParityRun.objects.get().passed is False
