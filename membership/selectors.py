"""Reads for the customers' pages: the notices on the home page, the member's own figures."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from core.errors import NoticeMissing
from loyalty import selectors as loyalty
from loyalty.models import Member
from loyalty.privacy import member_subject_key
from loyalty.purposes import Purpose
from membership.models import MarketingOptIn
from privacy.registry import registry
from privacy.selectors import consent_in_force, notice_current

# A page in a language head office has not published a notice in shows the English one.
NOTICE_FALLBACK = "en"


@dataclass(frozen=True)
class PublicNotice:
    purpose: str
    title: str
    text: str
    version: int
    language: str


def notices_public(*, language: str) -> list[PublicNotice]:
    """Return the current notice of every registered purpose, in `language` where published."""
    notices = []
    for purpose in registry.purposes.values():
        for lang in dict.fromkeys((language, NOTICE_FALLBACK)):
            try:
                notice = notice_current(purpose=purpose.code, language=lang)
            except NoticeMissing:
                continue
            notices.append(
                PublicNotice(purpose.code, str(purpose.label), notice.text, notice.version, lang)
            )
            break
    return notices


def consent_given(*, member: Member, purpose: str) -> bool:
    """Return whether the member's latest word on `purpose` is a consent."""
    return consent_in_force(subject_key=member_subject_key(member), purpose=purpose) is not None


def membership_overview(*, member: Member) -> dict:
    """Return what the member's own page shows: figures, history, rewards, consents."""
    rewards = list(loyalty.rewards_offered(store=member.home_store).order_by("point_cost", "name"))
    affordable = [r for r in rewards if r.point_cost <= member.points_balance]
    next_rewards = [r for r in rewards if r.point_cost > member.points_balance][:2]
    return {
        "balance": member.points_balance,
        "history": loyalty.member_history(member=member),
        "expiring": loyalty.points_expiring(member=member),
        "rewards_now": affordable,
        "rewards_next": [
            {"reward": r, "missing": r.point_cost - member.points_balance} for r in next_rewards
        ],
        # membership.access loads the card with the member: no query of its own.
        "eid_linked": hasattr(member, "eid_card"),
        "eid_consent": consent_given(member=member, purpose=Purpose.EID_RECOGNITION.value),
        "marketing": consent_given(member=member, purpose=Purpose.MARKETING_EMAIL.value),
        "marketing_pending": MarketingOptIn.objects.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()),
            member=member,
            confirmed_at__isnull=True,
        ).exists(),
    }
