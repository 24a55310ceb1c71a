"""Reads with a rule in them: finding members at the counter, their ledger, rewards on offer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import InvalidInput, MemberNotFound, RewardNotFound
from core.inputs import FORBIDDEN_CLASS
from loyalty.contact import phone_normalize
from loyalty.models import (
    CampaignApplication,
    Coupon,
    EntryKind,
    FoundBy,
    LedgerEntry,
    Member,
    MemberRead,
    ParityRun,
    Reward,
)
from loyalty.numbers import member_number_clean, member_number_looks_like
from loyalty.references import MemberReference, member_reference_read
from loyalty.rules import MemberFacts
from stores.access import Action, StaffAccess
from stores.models import Campaign, CampaignTrigger, Store

MAX_RESULTS = 20
# A name search at the counter is a fallback, narrow on purpose (rule 9).
NAME_SEARCH_MAX = 5


@dataclass(frozen=True)
class CounterFind:
    """What a counter lookup found, and how (stored with each read; never the value typed)."""

    members: list[Member]
    found_by: str


def _members() -> QuerySet[Member]:
    return Member.objects.select_related("home_store", "eid_card")


def members_with_email(email: str, members: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Return the member with this e-mail address, whatever its case (at most one: addresses
    are unique case-insensitively, `member_email_unique_ci`)."""
    members = Member.objects.all() if members is None else members
    return members.annotate(email_ci=Lower("email")).filter(email_ci=(email or "").lower())


def member_find_for_counter(*, query: str) -> CounterFind:
    """Return the members a counter lookup means: by member number, e-mail or phone (exact).

    A number shaped like a member number with a wrong check digit raises, so a typo is told
    apart from a stranger.
    """
    query = (query or "").strip()
    if not query or len(query) > 254:
        raise InvalidInput(_("Type a member number, an e-mail address or a phone number."))
    if member_number_looks_like(query):
        number = member_number_clean(query)
        return CounterFind(list(_members().filter(number=number)), FoundBy.NUMBER)
    if "@" in query:
        found = members_with_email(query, _members())
        return CounterFind(list(found[:MAX_RESULTS]), FoundBy.EMAIL)
    if sum(ch.isdigit() for ch in query) >= 6:
        found = _members().filter(phone=phone_normalize(query)).order_by("pk")
        return CounterFind(list(found[:MAX_RESULTS]), FoundBy.PHONE)
    raise InvalidInput(_("Type a member number, an e-mail address or a phone number."))


# The schema's pattern of a name search's surname ({minimum}=2) and given-name start (1): that
# many characters other than whitespace, no digit, nothing invisible.
NAME_SEARCH_PATTERN = (
    r"^\s*(?:[^\d\s" + FORBIDDEN_CLASS + r"]\s*){{{minimum},}}[^\d" + FORBIDDEN_CLASS + "]*$"
)


def members_by_name_narrow(*, surname: str, given_name_start: str) -> CounterFind:
    """Return at most five members with exactly this surname whose given name starts so.

    The fallback when a customer has nothing with them: the whole surname and the first
    letters of the given name, so nobody can browse the members by typing a letter.
    """
    surname = " ".join((surname or "").lower().split())
    start = " ".join((given_name_start or "").lower().split())
    # isdecimal: what the regex's \d means, so NAME_SEARCH_PATTERN says the same.
    if len(surname) < 2 or not start or any(ch.isdecimal() for ch in surname + start):
        raise InvalidInput(_("Type the whole surname and the first letters of the given name."))
    found = (
        _members()
        .annotate(surname_ci=Lower("surname"), given_name_ci=Lower("given_name"))
        .filter(
            surname_ci=surname,
            given_name_ci__gte=start,
            given_name_ci__lt=start + "\U0010ffff",
        )
        .order_by("given_name_ci", "pk")[:NAME_SEARCH_MAX]
    )
    return CounterFind(list(found), FoundBy.NAME_SEARCH)


def member_by_reference(
    *, access: StaffAccess, store: Store, reference: str, action: Action = Action.MEMBER_READ
) -> tuple[Member, MemberReference]:
    """Return the member a counter reference designates for this staff member at this store.

    Raises StoreForbidden unless the staff member may do `action` here, MemberReferenceInvalid
    or MemberReferenceExpired for a reference that is not theirs, and MemberNotFound for a
    member erased since.
    """
    access.require(action, store)
    ref = member_reference_read(reference, store_id=store.pk, staff_id=access.user.pk)
    member = _members().filter(pk=ref.member_id).first()
    if member is None:
        raise MemberNotFound()
    return member, ref


def member_card_presented(ref: MemberReference) -> str | None:
    """Return "card" when an eID scan recognised the member at this counter just now.

    The member then showed a credential only they hold, in this visit: enough to confirm an
    erasure or an export they ask for (privacy.services.counter).
    """
    fresh = time.time() - ref.issued_at <= settings.EID_PRESENTED_SECONDS
    return "card" if ref.found_by == FoundBy.EID and fresh else None


def member_ref_only(
    *, access: StaffAccess, store: Store, reference: str, action: Action
) -> tuple[Member, MemberReference]:
    """Return an unsaved stand-in for the designated member, for a service that locks the row.

    No query: the lock reads the row anyway and raises MemberNotFound if there is none.
    """
    access.require(action, store)
    ref = member_reference_read(reference, store_id=store.pk, staff_id=access.user.pk)
    return Member(pk=ref.member_id), ref


def member_ledger(*, member: Member) -> QuerySet[LedgerEntry]:
    """Return the member's ledger, newest first."""
    return LedgerEntry.objects.filter(member=member).select_related("store", "reward", "staff")


def rewards_offered(*, store: Store, at: datetime | None = None) -> QuerySet[Reward]:
    """Return the rewards this store offers right now."""
    at = at or timezone.now()
    return Reward.objects.filter(
        Q(active_from__isnull=True) | Q(active_from__lte=at),
        Q(active_until__isnull=True) | Q(active_until__gt=at),
        is_active=True,
        stores=store,
    )


def member_balance_from_ledger(*, member: Member) -> int:
    """Return the balance the ledger adds up to (the cached balance must always equal it)."""
    return LedgerEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0


def members_with_expirable_points(*, cutoff: datetime, among: QuerySet | None = None) -> QuerySet:
    """Return ids of members whose credits older than `cutoff` exceed all their debits.

    Debits consume the oldest credits first (FIFO), so what is left of credits older than the
    cutoff is `credits before cutoff - all debits`. Without `among` (a queryset of member ids)
    this reads the whole ledger: the nightly run narrows it to `members_with_credits_between`.
    """
    entries = LedgerEntry.objects.filter(member__isnull=False, member__points_balance__gt=0)
    if among is not None:
        entries = entries.filter(member_id__in=among)
    return (
        entries.values("member_id")
        .annotate(
            old_credits=Sum("points", filter=Q(points__gt=0, created_at__lt=cutoff), default=0),
            debits=Sum("points", filter=Q(points__lt=0), default=0),
        )
        .filter(old_credits__gt=-F("debits"))
        .values_list("member_id", flat=True)
    )


def members_with_credits_between(*, start: datetime, end: datetime) -> QuerySet:
    """Return ids of members with points left who earned a credit in [start, end).

    When the expiry cutoff passes that range, these are the only members for whom something
    may have become expirable: one range of the ledger's index on `created_at`.
    """
    credited = LedgerEntry.objects.filter(
        points__gt=0, created_at__gte=start, created_at__lt=end, member__isnull=False
    ).values("member_id")
    return (
        Member.objects.filter(points_balance__gt=0, pk__in=credited)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def rewards_within_reach(*, store: Store, balance: int) -> list[Reward]:
    """Return the rewards this store offers now that the balance pays for, cheapest first."""
    return list(rewards_offered(store=store).filter(point_cost__lte=balance).order_by("point_cost"))


def member_reads_recent(*, member: Member, limit: int = 50) -> QuerySet[MemberRead]:
    """Return the latest reads of a member's data by staff, newest first."""
    return MemberRead.objects.filter(member=member).select_related("staff", "store")[:limit]


def reward_get(reward_id: int) -> Reward:
    """Return the reward with this id, or raise RewardNotFound."""
    reward = Reward.objects.filter(pk=reward_id).first()
    if reward is None:
        raise RewardNotFound()
    return reward


@dataclass(frozen=True)
class PointsExpiring:
    on: date
    points: int


def points_expiring(*, member: Member) -> list[PointsExpiring]:
    """Return when the member's points expire and how many, soonest first.

    The rule `points_expire` applies: credits expire LOYALTY_POINTS_EXPIRY_MONTHS after they
    were earned, and debits (redemptions, expiries) use the oldest credits first.
    """
    from dateutil.relativedelta import relativedelta

    rows = list(LedgerEntry.objects.filter(member=member).values_list("points", "created_at"))
    credits = sorted((at, points) for points, at in rows if points > 0)
    to_cover = -sum(points for points, _at in rows if points < 0)
    months = relativedelta(months=settings.LOYALTY_POINTS_EXPIRY_MONTHS)
    by_day: dict = {}
    for at, points in credits:
        used = min(points, to_cover)
        to_cover -= used
        if points - used > 0:
            day = timezone.localdate(at + months)
            by_day[day] = by_day.get(day, 0) + points - used
    return [PointsExpiring(on=day, points=points) for day, points in sorted(by_day.items())]


def member_history(*, member: Member, limit: int = 100) -> list[LedgerEntry]:
    """Return the member's own points history, newest first (their page, not the counter's)."""
    return list(
        LedgerEntry.objects.filter(member=member)
        .select_related("store", "reward")
        .order_by("-created_at", "-pk")[:limit]
    )


def member_facts_wanted(*, store: Store | int, campaigns) -> tuple[list[int], int | None]:
    """Return what the campaigns' conditions need to know of a member: the ids of campaigns
    capped per member (their uses are counted) and the store id if one triggers on the first
    purchase at a store (else None). `member_facts` and the counter's locking read agree by it."""
    store_id = store if isinstance(store, int) else store.pk
    capped = [c.id for c in campaigns if c.max_per_member is not None]
    first = any(c.trigger == CampaignTrigger.FIRST_STORE_PURCHASE for c in campaigns)
    return capped, (store_id if first else None)


def member_facts(*, member: Member, store: Store | int, campaigns) -> MemberFacts:
    """Return what campaign conditions may know of the member (`loyalty.rules.MemberFacts`).

    Reads the member's `pk` and `tier` and their own purchases and campaign uses, nothing
    else: how they joined, their consent, contact details or card link never reach a
    condition (rule 2; the equal benefits test passes a stand-in that has only these two).
    The counter reads the same in its locking statement (`ledger_sql.member_lock`).
    """
    capped, first_store = member_facts_wanted(store=store, campaigns=campaigns)
    uses = {}
    if capped:
        uses = dict(
            CampaignApplication.objects.filter(member_id=member.pk, campaign_id__in=capped)
            .values_list("campaign_id")
            .annotate(n=Count("pk"))
        )
    first = False
    if first_store is not None:
        first = not LedgerEntry.objects.filter(
            member_id=member.pk, store_id=first_store, kind=EntryKind.EARN
        ).exists()
    return MemberFacts(tier=member.tier, first_at_store=first, uses=uses)


def campaign_uses_total(campaigns, *, lock: bool = False) -> dict[int, int]:
    """Return how often each campaign with a total cap applied; lock their rows if asked, in
    id order, so that two earns cannot both take a campaign's last use."""
    capped = sorted(c.id for c in campaigns if c.max_total is not None)
    if not capped:
        return {}
    if lock:
        list(Campaign.objects.select_for_update().filter(pk__in=capped).order_by("pk").values("pk"))
    return dict(
        CampaignApplication.objects.filter(campaign_id__in=capped)
        .values_list("campaign_id")
        .annotate(n=Count("pk"))
    )


def member_tier_points(*, member_id: int, now: datetime) -> int:
    """Return the points the member earned over the last 12 months (purchases and bonuses,
    less what returns took back): what their tier is reached by."""
    since = now - timedelta(days=365)
    return (
        LedgerEntry.objects.filter(
            member_id=member_id,
            created_at__gte=since,
            kind__in=[EntryKind.EARN, EntryKind.BONUS, EntryKind.RETURN],
        ).aggregate(s=Sum("points"))["s"]
        or 0
    )


def member_coupons(*, member: Member, at: datetime | None = None) -> QuerySet[Coupon]:
    """Return the member's coupons not yet redeemed nor expired, soonest to expire first."""
    at = at or timezone.now()
    return Coupon.objects.filter(
        member=member, redeemed_at__isnull=True, expires_at__gt=at
    ).order_by("expires_at", "pk")


def parity_run_last() -> ParityRun | None:
    """Return the equal-benefits parity check's last run, or None if it never ran."""
    return ParityRun.objects.order_by("-ran_at", "-pk").first()
