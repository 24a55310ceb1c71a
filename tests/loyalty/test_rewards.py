"""loyalty.services: adding rewards to the catalogue and offering or withdrawing them."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from loyalty.models import Reward
from loyalty.services import reward_create, reward_set_active
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_reward_create_offers_it_at_the_given_stores_only(store):
    other = StoreFactory(code="LIE01")

    reward = reward_create(
        name=" Cinema ticket ", description=" Any film ", point_cost=400, stores=[store]
    )

    assert (reward.name, reward.description, reward.point_cost) == (
        "Cinema ticket",
        "Any film",
        400,
    )
    assert list(reward.stores.all()) == [store]
    assert other not in reward.stores.all()


@pytest.mark.parametrize("cost", [0, -5])
def test_reward_create_refuses_a_free_reward(store, cost):
    with pytest.raises(InvalidInput) as refused:
        reward_create(name="Free", description="", point_cost=cost, stores=[store])

    assert list(refused.value.details) == ["point_cost"]
    assert not Reward.objects.exists()


def test_reward_set_active_withdraws_and_offers_again(store):
    reward = reward_create(name="Mug", description="", point_cost=50, stores=[store])

    reward_set_active(reward=reward, active=False)
    reward.refresh_from_db()
    assert reward.is_active is False

    reward_set_active(reward=reward, active=True)
    reward.refresh_from_db()
    assert reward.is_active is True
