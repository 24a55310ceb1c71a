"""The reward catalogue: adding rewards and choosing whether they are offered."""

from __future__ import annotations

from django.db import transaction

from core.errors import InvalidInput
from loyalty.models import Reward
from stores.models import Store


@transaction.atomic
def reward_create(*, name: str, description: str, point_cost: int, stores: list[Store]) -> Reward:
    """Add a reward to the catalogue, offered at the given stores."""
    if point_cost <= 0:
        raise InvalidInput(details={"point_cost": ["A reward costs at least one point."]})
    reward = Reward.objects.create(
        name=name.strip()[:100], description=description.strip()[:300], point_cost=point_cost
    )
    reward.stores.set(stores)
    return reward


def reward_set_active(*, reward: Reward, active: bool) -> Reward:
    """Offer a reward again, or stop offering it (past redemptions stay)."""
    if reward.is_active != active:
        reward.is_active = active
        reward.save(update_fields=["is_active"])
    return reward
