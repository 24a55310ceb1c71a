"""The compliance checks that read the data and the settings, each with the rows that fail it.

Each returns a `Check`: whether it passes, a line saying what was found, and the rows that
fail it (what they are and where head office opens them; ids and names of staff accounts,
never a member's personal data). The page (`/office/compliance/`) and the command
(`manage.py compliance_check`, non-zero exit for CI and monitoring) show the same checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Min, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from loyalty.demo import DEMO_PASSWORD, DEMO_READER, STAFF
from loyalty.models import EidCard, JoinChannel, Reward
from loyalty.privacy import PREFIX as MEMBER_PREFIX
from loyalty.purposes import Purpose
from privacy.models import ConsentAction, ConsentRecord
from privacy.services.erasure_coverage import trace_coverage_gaps
from stores.models import Campaign, ReaderDevice, StaffToken
from stores.selectors import staff_tokens_expire

ROWS_SHOWN = 50
DEVELOPMENT_SETTINGS = ("config.settings.local", "config.settings.test")
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@dataclass(frozen=True)
class CheckRow:
    text: str
    url: str = ""


@dataclass
class Check:
    code: str
    title: str
    ok: bool
    summary: str
    rows: list[CheckRow] = field(default_factory=list)
    total: int = 0  # rows failing, of which `rows` shows the first ROWS_SHOWN


def deployment_is_development() -> bool:
    """Return whether these are development settings (local or test), not a deployment."""
    return settings.SETTINGS_MODULE in DEVELOPMENT_SETTINGS


def check_eid_consent() -> Check:
    """Every eID card link has a consent record for eID recognition from before the link.

    A consent given under a scan's key and carried over to the member counts from when it was
    given. Two reads and a comparison in Python: a correlated subquery per card took 16 s for
    8,000 cards on PostgreSQL, this takes a fraction of that.
    """
    given = (
        ConsentRecord.objects.filter(
            purpose=Purpose.EID_RECOGNITION.value,
            action=ConsentAction.GIVEN,
            subject_key__startswith=f"{MEMBER_PREFIX}:",
        )
        .values("subject_key")
        .annotate(first=Min(Coalesce("refers_to__created_at", "created_at")))
        .order_by()
        .values_list("subject_key", "first")
    )
    first_consent = dict(given.iterator(chunk_size=5000))
    missing: list[tuple[int, object]] = []
    cards = 0
    linked = EidCard.objects.order_by("pk").values_list("pk", "member_id", "linked_at")
    for pk, member_id, linked_at in linked.iterator(chunk_size=5000):
        cards += 1
        at = first_consent.get(f"{MEMBER_PREFIX}:{member_id}")
        if at is None or at > linked_at:
            missing.append((pk, linked_at))
    rows = [
        CheckRow(
            str(_("eID card link #%(id)s, linked %(at)s"))
            % {"id": pk, "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M")},
            reverse("admin:loyalty_eidcard_change", args=[pk]),
        )
        for pk, at in missing[:ROWS_SHOWN]
    ]
    return Check(
        code="eid_consent",
        title=str(_("Every eID card link has a consent record older than it")),
        ok=not missing,
        summary=str(
            _("%(missing)s of %(cards)s eID card links have no consent given before them.")
            % {"missing": len(missing), "cards": cards}
        ),
        rows=rows,
        total=len(missing),
    )


BENEFIT_MODELS = ("loyalty.Reward", "stores.Campaign", "stores.EarningRule")
# A benefit that depends on how someone joined (rule 2): eID only, form excluded, card bonus.
CHANNEL_WORDS = re.compile(r"eid|joined|join_channel|channel|card_only|form_only", re.I)


def benefit_fields_by_channel(fields: Iterable[models.Field] | None = None) -> list[str]:
    """Return the benefit models' fields that could make a benefit depend on the join channel."""
    if fields is None:
        fields = [
            f
            for label in BENEFIT_MODELS
            for f in apps.get_model(label)._meta.get_fields()
            if not f.auto_created or f.concrete
        ]
    channel_values = set(JoinChannel.values)
    found = []
    for f in fields:
        # The names as the code writes them: a translation's words are no channel (the Dutch
        # "geldigheid" and "aanleiding" hold the letters "eid").
        with translation.override("en"):
            text = f"{f.name} {getattr(f, 'verbose_name', '')}"
        related = f.related_model._meta.label if getattr(f, "related_model", None) else ""
        choices = {str(v) for v, _label in (getattr(f, "choices", None) or [])}
        if (
            CHANNEL_WORDS.search(text)
            or related in ("loyalty.Member", "loyalty.EidCard")
            or choices & channel_values
        ):
            model = f.model._meta.label if getattr(f, "model", None) else "?"
            found.append(f"{model}.{f.name}")
    return found


def check_equal_benefits(fields: Iterable[models.Field] | None = None) -> Check:
    """Every reward and campaign is reachable by a member who joined by form (rule 2).

    Nothing that computes points or offers rewards receives the member (tests hold the code
    to it); what the data can break is a benefit offered nowhere a member shops, and what the
    schema can break is a field that ties a benefit to how someone joined.
    """
    now = timezone.now()
    rows = [
        CheckRow(str(_("Field %(field)s ties a benefit to how the member joined")) % {"field": f})
        for f in benefit_fields_by_channel(fields)
    ]
    rewards = (
        Reward.objects.filter(is_active=True)
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=now))
        .exclude(stores__is_active=True)
        .order_by("pk")
    )
    for reward in rewards:
        rows.append(
            CheckRow(
                str(_("Reward “%(name)s” is offered in no open store")) % {"name": reward.name},
                reverse("dashboard:rewards"),
            )
        )
    campaigns = Campaign.objects.filter(ends_at__gt=now, store__is_active=False).select_related(
        "store"
    )
    for campaign in campaigns.order_by("pk"):
        rows.append(
            CheckRow(
                str(_("Campaign “%(name)s” runs in a closed store (%(store)s)"))
                % {"name": campaign.name, "store": campaign.store.code},
                reverse("dashboard:store", args=[campaign.store.code]),
            )
        )
    return Check(
        code="equal_benefits",
        title=str(_("Every reward and campaign is open to members who joined by form")),
        ok=not rows,
        summary=str(
            _("%(n)s reward(s) and campaign(s) out of reach, or fields tied to the channel.")
            % {"n": len(rows)}
        ),
        rows=rows[:ROWS_SHOWN],
        total=len(rows),
    )


def check_mail_real() -> Check:
    """Outside development, mail goes to a real SMTP server from a real address."""
    if deployment_is_development():
        return Check(
            code="mail_real",
            title=str(_("Mail goes to a real mail server")),
            ok=True,
            summary=str(_("Development settings: mail may stay on this machine.")),
        )
    rows = []
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        rows.append(CheckRow(str(_("EMAIL_URL does not name an SMTP server"))))
    sender = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].lower().rstrip(">")
    if sender in ("example.be", "example.com", "example.org", "localhost") or sender.endswith(
        (".invalid", ".example", ".test")
    ):
        rows.append(CheckRow(str(_("DEFAULT_FROM_EMAIL is not a real address"))))
    return Check(
        code="mail_real",
        title=str(_("Mail goes to a real mail server")),
        ok=not rows,
        summary=str(_("Mail settings checked.")),
        rows=rows,
        total=len(rows),
    )


def check_tokens_expire() -> Check:
    """Staff API tokens expire, and no live token was made without an expiry."""
    rows = []
    ttl_zero = not staff_tokens_expire()
    if ttl_zero:
        rows.append(CheckRow(str(_("STAFF_TOKEN_TTL_HOURS is 0: new tokens never expire"))))
    forever = StaffToken.objects.filter(expiry__isnull=True).select_related("user").order_by("pk")
    total = forever.count()
    for token in forever[:ROWS_SHOWN]:
        rows.append(
            CheckRow(
                str(_("Token of %(user)s that never expires"))
                % {"user": token.user.get_username()},
                reverse("dashboard:staff"),
            )
        )
    return Check(
        code="tokens_expire",
        title=str(_("Staff API tokens expire")),
        ok=not rows,
        summary=str(_("%(n)s token(s) without an expiry.") % {"n": total}),
        rows=rows,
        total=total + ttl_zero,
    )


def check_no_demo_accounts() -> Check:
    """Outside development, no demo login (seed_demo's, with its printed password) exists."""
    if deployment_is_development():
        return Check(
            code="demo_accounts",
            title=str(_("No demo account outside development")),
            ok=True,
            summary=str(_("Development settings: demo accounts are allowed.")),
        )
    names = [username for username, _role, _store in STAFF]
    users = get_user_model().objects.filter(username__in=names, is_active=True).order_by("pk")
    rows = [
        CheckRow(
            str(_("Demo login %(user)s with the demo password")) % {"user": u.get_username()},
            reverse("dashboard:staff"),
        )
        for u in users
        if u.check_password(DEMO_PASSWORD)
    ]
    readers = ReaderDevice.objects.filter(name=DEMO_READER, revoked_at__isnull=True)
    for device in readers.select_related("store").order_by("pk"):
        rows.append(
            CheckRow(
                str(_("Demo eID reader #%(id)s")) % {"id": device.pk},
                reverse("dashboard:store", args=[device.store.code]),
            )
        )
    return Check(
        code="demo_accounts",
        title=str(_("No demo account outside development")),
        ok=not rows,
        summary=str(_("%(n)s demo account(s) found.") % {"n": len(rows)}),
        rows=rows,
        total=len(rows),
    )


def check_traces_covered() -> Check:
    """Every model that can hold a trace of a person is covered by an eraser or declared."""
    gaps = trace_coverage_gaps()
    return Check(
        code="traces_covered",
        title=str(_("Every model is covered by erasure or declared as holding no member data")),
        ok=not gaps,
        summary=str(_("%(n)s model(s) or field(s) not accounted for.") % {"n": len(gaps)}),
        rows=[CheckRow(gap) for gap in gaps[:ROWS_SHOWN]],
        total=len(gaps),
    )


def compliance_checks() -> list[Check]:
    """Return the checks on the data and the settings, in the page's order."""
    return [
        check_eid_consent(),
        check_equal_benefits(),
        check_tokens_expire(),
        check_mail_real(),
        check_no_demo_accounts(),
        check_traces_covered(),
    ]
