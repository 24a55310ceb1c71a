"""Test data factories (factory-boy). Names and contacts are synthetic."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from loyalty.models import EidCard, JoinChannel, Member, Reward
from loyalty.numbers import member_number_generate
from stores.models import EarningRule, StaffAssignment, StaffRole, Store
from stores.services import staff_token_create


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"ST{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    city = "Gent"
    language = "nl"


class EarningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningRule

    store = factory.SubFactory(StoreFactory)
    points_per_euro = Decimal("1.00")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    password = factory.django.Password("pw-for-tests-only")


class StaffFactory(UserFactory):
    """A cashier of one store (pass `store=` and `role=` to change)."""

    @factory.post_generation
    def store(self, create, extracted, **kwargs):
        if create:
            StaffAssignment.objects.create(
                user=self,
                store=extracted or StoreFactory(),
                role=kwargs.get("role", StaffRole.CASHIER),
            )


class HeadOfficeFactory(UserFactory):
    @factory.post_generation
    def head_office(self, create, extracted, **kwargs):
        if create:
            StaffAssignment.objects.create(user=self, store=None, role=StaffRole.HEAD_OFFICE)


def staff_token(user, *, device: str = "") -> str:
    """Log `user` in as the API does; return the token's text (knox tokens are created with
    their text, which only the caller ever sees, so not through a factory)."""
    return staff_token_create(user=user, device=device)[1]


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    number = factory.LazyFunction(member_number_generate)
    given_name = factory.Faker("first_name", locale="nl_BE")
    surname = factory.Faker("last_name", locale="nl_BE")
    email = factory.Sequence(lambda n: f"member{n}@example.be")
    phone = factory.Sequence(lambda n: f"+3247{n:07d}")
    joined_via = JoinChannel.FORM
    home_store = factory.SubFactory(StoreFactory)
    last_activity_at = factory.LazyFunction(timezone.now)


class EidMemberFactory(MemberFactory):
    class Meta:
        skip_postgeneration_save = True

    joined_via = JoinChannel.EID
    email = None
    phone = None
    eid_card = factory.RelatedFactory(
        "tests.factories.EidCardFactory", factory_related_name="member"
    )


class EidCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EidCard

    member = factory.SubFactory(EidMemberFactory, eid_card=None)
    token = factory.Sequence(lambda n: f"{n:064x}")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Reward {n}")
    point_cost = 100

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        if create and extracted:
            self.stores.set(extracted)


class PrivacyTicketFactory(factory.django.DjangoModelFactory):
    """An erasure request as the public form leaves it (pass `state=`, `kind=`, `due_on=`)."""

    class Meta:
        model = "privacy.PrivacyTicket"
        skip_postgeneration_save = True

    kind = "erasure"
    state = "received"
    source = "public_form"
    subject_key = factory.Sequence(lambda n: f"member:{900000 + n}")
    language = "nl"
    received_at = factory.LazyFunction(timezone.now)
    due_on = factory.LazyAttribute(lambda t: timezone.localdate(t.received_at) + _one_month())

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        if create:
            from privacy.models import TicketTransition

            TicketTransition.objects.create(
                ticket=self, from_state="", to_state=self.state, at=self.received_at
            )


class RetentionRunFactory(factory.django.DjangoModelFactory):
    """A retention run that found nobody (pass `tickets_opened=`, `started_at=`)."""

    class Meta:
        model = "privacy.RetentionRun"

    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyAttribute(lambda r: r.started_at + timedelta(seconds=2))
    cutoff = factory.LazyAttribute(lambda r: r.started_at - _retention_period())
    tickets_opened = 0


def _one_month():
    from dateutil.relativedelta import relativedelta

    return relativedelta(months=1)


def _retention_period():
    from dateutil.relativedelta import relativedelta
    from django.conf import settings

    return relativedelta(months=settings.PRIVACY_RETENTION_MONTHS)
