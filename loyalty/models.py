"""Members, their eID card link, the points ledger and the rewards catalogue.

There is deliberately no field for the national register number, birth date, gender,
address or photo anywhere in this schema: the loyalty purpose does not need them.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from stores.models import Store


class JoinChannel(models.TextChoices):
    FORM = "form", _("Form")
    EID = "eid", _("eID card")
    EID_ANONYMOUS = "anon", _("eID card, anonymous")


# The longest names an eID holds (file-format document, version 5), in UTF-8 bytes; a surname
# of 110 bytes is at most 110 characters. Given names: only the first is kept (max_length 100).
EID_SURNAME_MAX_BYTES = 110
EID_GIVEN_NAMES_MAX_BYTES = 95


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BLOCKED = "blocked", _("Blocked")


class Member(models.Model):
    number = models.CharField(verbose_name=_("number"), max_length=12, unique=True)
    # Both blank for an anonymous eID member: known only by the card's keyed hash.
    given_name = models.CharField(verbose_name=_("given name"), max_length=100, blank=True)
    surname = models.CharField(
        verbose_name=_("surname"), max_length=EID_SURNAME_MAX_BYTES, blank=True
    )
    # NULL, not "": eID members have no e-mail, and the unique index must ignore them.
    email = models.EmailField(  # noqa: DJ001
        verbose_name=_("e-mail address"), max_length=254, null=True, blank=True
    )
    phone = models.CharField(  # noqa: DJ001
        verbose_name=_("phone"), max_length=20, null=True, blank=True, help_text="E.164"
    )
    joined_via = models.CharField(
        verbose_name=_("joined via"), max_length=4, choices=JoinChannel.choices
    )
    home_store = models.ForeignKey(
        Store, verbose_name=_("home store"), on_delete=models.PROTECT, related_name="members"
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=10,
        choices=MemberStatus.choices,
        default=MemberStatus.ACTIVE,
    )
    points_balance = models.IntegerField(verbose_name=_("points balance"), default=0)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)
    last_activity_at = models.DateTimeField(verbose_name=_("last activity at"), db_index=True)
    # The tier reached by points earned over a rolling 12 months (`tier_points`, raised at each
    # earn, recomputed exactly by the daily task); kept until `tier_kept_until` when the
    # points fall below it (the grace before a downgrade).
    tier = models.CharField(verbose_name=_("tier"), max_length=20, blank=True)
    tier_points = models.IntegerField(verbose_name=_("tier points"), default=0)
    tier_kept_until = models.DateTimeField(verbose_name=_("tier kept until"), null=True, blank=True)
    # Points a return could not take back (the balance never goes negative): taken from the
    # next points earned.
    points_owed = models.IntegerField(verbose_name=_("points owed"), default=0)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="member_email_unique_ci"),
            models.CheckConstraint(condition=Q(points_balance__gte=0), name="member_balance_gte_0"),
            models.CheckConstraint(condition=Q(points_owed__gte=0), name="member_owed_gte_0"),
        ]
        indexes = [
            models.Index(Lower("surname"), Lower("given_name"), name="member_name_ci"),
            models.Index(fields=["phone"], name="member_phone"),
        ]

    def __str__(self) -> str:
        return self.number


class EidCard(models.Model):
    """The link between a member and their current eID card: a keyed hash, never the number.

    The agent sends an HMAC of the card number under the chain's agent key; the server keeps
    an HMAC of that under its own key (`loyalty.eid_rules.eid_token_digest`), so not even the
    agent's value is stored as sent.
    """

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="eid_card"
    )
    token = models.CharField(
        verbose_name=_("token"),
        max_length=64,
        unique=True,
        help_text=_("HMAC-SHA256 (server key) of the agent's HMAC of the card number"),
    )
    linked_at = models.DateTimeField(verbose_name=_("linked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("eID card link")
        verbose_name_plural = _("eID card links")

    def __str__(self) -> str:
        return f"eID card of {self.member_id}"


class Reward(models.Model):
    name = models.CharField(verbose_name=_("name"), max_length=100)
    description = models.CharField(verbose_name=_("description"), max_length=300, blank=True)
    point_cost = models.PositiveIntegerField(
        verbose_name=_("point cost"),
    )
    stores = models.ManyToManyField(
        Store, verbose_name=_("stores"), related_name="rewards", blank=True
    )
    active_from = models.DateTimeField(verbose_name=_("active from"), null=True, blank=True)
    active_until = models.DateTimeField(verbose_name=_("active until"), null=True, blank=True)
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["point_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(point_cost__gt=0), name="reward_cost_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.point_cost} pt)"


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earn")
    REDEEM = "redeem", _("Redeem")
    ADJUST = "adjust", _("Adjust")
    EXPIRE = "expire", _("Expire")
    REVERSE = "reverse", _("Reverse")
    BONUS = "bonus", _("Bonus")
    RETURN = "return", _("Return")


class LedgerEntry(models.Model):
    """One append-only movement of points.

    On erasure `member` is set to NULL: the sale stays (amount, store, time) for the
    accounts, the link to the person goes.
    """

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ledger",
        # (member, created_at) serves it: one index fewer to update at every entry.
        db_index=False,
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="ledger",
        # (store, idempotency_key) serves it.
        db_index=False,
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=EntryKind.choices)
    points = models.IntegerField(
        verbose_name=_("points"),
        help_text=_("Positive adds to the balance, negative takes from it."),
    )
    balance_after = models.IntegerField(
        verbose_name=_("balance after"),
    )
    purchase_amount = models.DecimalField(
        verbose_name=_("purchase amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    reward = models.ForeignKey(
        Reward,
        verbose_name=_("reward"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="redemptions",
        # Indexed only where set (Meta.indexes): most entries name no reward.
        db_index=False,
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    # A return names the earn of the sale it takes points back from (partial returns: several).
    sale = models.ForeignKey(
        "self",
        verbose_name=_("sale"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returns",
        # Indexed only where set (Meta.indexes): only returns name a sale.
        db_index=False,
    )
    reference = models.CharField(verbose_name=_("reference"), max_length=64, blank=True)
    # Why the points moved, part by part: [{"reason": "purchase", "points": 12},
    # {"reason": "campaign", "name": "Double weekend", "points": 12}, ...] (`loyalty.rules`).
    detail = models.JSONField(verbose_name=_("detail"), default=list, blank=True)
    # NULL when no key was sent, so the per-store unique constraint ignores it.
    idempotency_key = models.CharField(  # noqa: DJ001
        verbose_name=_("idempotency key"), max_length=100, null=True, blank=True
    )
    created_at = models.DateTimeField(verbose_name=_("created at"), db_index=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"], name="ledger_idempotency_per_store"
            ),
            # A purchase below the store's minimum is still recorded, with 0 points; so is a
            # return that found the balance empty (what it could not take is owed).
            models.CheckConstraint(
                condition=~Q(points=0) | Q(kind__in=["earn", "return"]),
                name="ledger_points_non_zero",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_gte_0"),
        ]
        indexes = [
            models.Index(fields=["member", "created_at"]),
            models.Index(
                fields=["reward"], condition=Q(reward__isnull=False), name="ledger_reward_set"
            ),
            models.Index(fields=["sale"], condition=Q(sale__isnull=False), name="ledger_sale_set"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.points:+d}"


class ExpiryWatermark(models.Model):
    """How far the nightly expiry has weighed the ledger's credits (one row).

    Every credit created before `credits_before` has been weighed against the cutoff it fell
    behind; the next run reads only the credits from there to its own cutoff.
    """

    credits_before = models.DateTimeField(verbose_name=_("credits before"))
    ran_at = models.DateTimeField(verbose_name=_("ran at"))

    class Meta:
        verbose_name = _("expiry watermark")
        verbose_name_plural = _("expiry watermarks")

    def __str__(self) -> str:
        return f"expiry weighed credits before {self.credits_before:%Y-%m-%d %H:%M}"


class CampaignApplication(models.Model):
    """One time a campaign applied to a member: what "at most N times" counts.

    On erasure `member` is set to NULL: the campaign's total stays, the person goes.
    """

    campaign = models.ForeignKey(
        "stores.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="applications",
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # campaign_use_member (member, campaign) serves it.
        db_index=False,
    )
    entry = models.ForeignKey(
        LedgerEntry,
        verbose_name=_("entry"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The day only: enough for "once a year", too coarse to chain a person's visits (rule 7).
    applied_on = models.DateField(verbose_name=_("applied on"), default=date.today)

    class Meta:
        verbose_name = _("campaign application")
        verbose_name_plural = _("campaign applications")
        indexes = [models.Index(fields=["member", "campaign"], name="campaign_use_member")]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} for {self.member_id}"


class Coupon(models.Model):
    """A single-use code: worth an amount off or a free product, until it expires.

    Issued by a campaign to a member, or in bulk by head office (no member: whoever holds
    the code). Redeemed once: `coupon_redeem` sets `redeemed_at` with a conditional UPDATE.
    """

    code = models.CharField(max_length=16, unique=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="coupons",
    )
    campaign = models.ForeignKey(
        "stores.Campaign",
        verbose_name=_("campaign"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_entry = models.ForeignKey(
        LedgerEntry,
        verbose_name=_("issued entry"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coupons",
    )
    value = models.DecimalField(
        verbose_name=_("value"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    product = models.CharField(verbose_name=_("free product"), max_length=64, blank=True)
    issued_at = models.DateTimeField(
        verbose_name=_("issued at"),
    )
    expires_at = models.DateTimeField(
        verbose_name=_("expires at"),
    )
    redeemed_at = models.DateTimeField(verbose_name=_("redeemed at"), null=True, blank=True)
    redeemed_store = models.ForeignKey(
        Store,
        verbose_name=_("redeemed store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("redeemed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__isnull=False) | ~Q(product=""), name="coupon_value_or_product"
            ),
        ]

    def __str__(self) -> str:
        return f"coupon {self.code[:4]}…"


class WebhookEvent(models.TextChoices):
    """What a till or CRM may subscribe to. `member.erased` carries the member number only."""

    MEMBER_JOINED = "member.joined", _("Member joined")
    POINTS_EARNED = "points.earned", _("Points earned")
    POINTS_REDEEMED = "points.redeemed", _("Points redeemed")
    POINTS_REVERSED = "points.reversed", _("Points reversed")
    POINTS_ADJUSTED = "points.adjusted", _("Points adjusted")
    POINTS_EXPIRED = "points.expired", _("Points expired")
    TIER_CHANGED = "tier.changed", _("Tier changed")
    COUPON_ISSUED = "coupon.issued", _("Coupon issued")
    COUPON_REDEEMED = "coupon.redeemed", _("Coupon redeemed")
    MEMBER_ERASED = "member.erased", _("Member erased")


class WebhookEndpoint(models.Model):
    """A till's or CRM's address that receives the events it subscribed to, signed.

    The secret signs every delivery (HMAC-SHA256 over the timestamp and the body); it is kept
    sealed (`privacy.hashing.seal`) and shown once, when head office adds the endpoint.
    """

    name = models.CharField(verbose_name=_("name"), max_length=100)
    url = models.URLField(verbose_name=_("address"), max_length=500)
    events = models.JSONField(verbose_name=_("events"), default=list)
    secret_sealed = models.TextField(verbose_name=_("secret (sealed)"))
    is_active = models.BooleanField(verbose_name=_("active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Given up")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change,
    and the delivery log the office reads.

    `member` finds a member's deliveries at erasure: the ones not sent yet are dropped, the
    others lose their payload (rule 7); the endpoints that had them are told (rule 8).
    """

    id = models.UUIDField(
        verbose_name=_("id"), primary_key=True, default=uuid.uuid4, editable=False
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(verbose_name=_("event"), max_length=30, choices=WebhookEvent.choices)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    payload = models.JSONField(verbose_name=_("payload"), default=dict)
    state = models.CharField(
        verbose_name=_("state"),
        max_length=10,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    attempts = models.PositiveIntegerField(verbose_name=_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(verbose_name=_("next attempt at"))
    last_status = models.PositiveIntegerField(verbose_name=_("last status"), null=True, blank=True)
    # What went wrong, in our words ("HTTP 500", "timeout"): never the endpoint's answer.
    last_error = models.CharField(verbose_name=_("last error"), max_length=100, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    delivered_at = models.DateTimeField(verbose_name=_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="webhook_delivery_due",
            ),
            models.Index(fields=["member"], name="webhook_delivery_member"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to endpoint {self.endpoint_id}"


class ScanState(models.TextChoices):
    ARMED = "armed", _("Waiting for the card")
    COMPLETED = "completed", _("Card read")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class ReadMethod(models.TextChoices):
    """How the reader took the fields from the card (what the notice promised, per card)."""

    READ_RECORD = "read_record", _("Single fields (applet 1.8)")
    READ_BINARY = "read_binary", _("Whole identity file, wiped in the reader (applet 1.7)")


class EidScan(models.Model):
    """One eID read at a counter, armed by staff after the customer consented.

    It holds no personal data: the outcome is a link to the member it recognised or created.
    `consent_subject` is the pseudonymous key the consent was recorded under before the card
    was read (the member may not exist yet).
    """

    id = models.UUIDField(
        verbose_name=_("id"), primary_key=True, default=uuid.uuid4, editable=False
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="eid_scans"
    )
    device = models.ForeignKey(
        "stores.ReaderDevice",
        verbose_name=_("device"),
        on_delete=models.CASCADE,
        related_name="scans",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(
        verbose_name=_("state"), max_length=10, choices=ScanState.choices, default=ScanState.ARMED
    )
    consent_subject = models.CharField(verbose_name=_("consent subject"), max_length=64)
    notice_language = models.CharField(verbose_name=_("notice language"), max_length=2)
    link_member = models.ForeignKey(
        Member,
        verbose_name=_("link member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Set when the scan links a renewed card to a known member."),
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="eid_scans",
    )
    member_created = models.BooleanField(verbose_name=_("member created"), default=False)
    anonymous = models.BooleanField(
        verbose_name=_("anonymous"),
        default=False,
        help_text=_("The customer chose to be known by the card's hash only."),
    )
    guardian_consent = models.BooleanField(
        verbose_name=_("guardian consent"),
        default=False,
        help_text=_("The consent was given by a parent or guardian."),
    )
    read_method = models.CharField(
        verbose_name=_("read method"), max_length=12, choices=ReadMethod.choices, blank=True
    )
    failure_code = models.CharField(verbose_name=_("failure code"), max_length=40, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(
        verbose_name=_("expires at"),
    )
    picked_up_at = models.DateTimeField(verbose_name=_("picked up at"), null=True, blank=True)
    read_started_at = models.DateTimeField(
        verbose_name=_("read started at"),
        null=True,
        blank=True,
        help_text=_("When the reader was allowed its one read."),
    )
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("eID scan")
        verbose_name_plural = _("eID scans")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["device", "state", "expires_at"])]

    def __str__(self) -> str:
        return f"scan {self.pk} ({self.state})"


class FoundBy(models.TextChoices):
    """How staff found a member: what the customer presented, never the value typed."""

    NUMBER = "number", _("Member number or card")
    EMAIL = "email", _("E-mail address")
    PHONE = "phone", _("Phone number")
    EID = "eid", _("eID card")
    NAME_SEARCH = "name_search", _("Name search")
    ENROLMENT = "enrolment", _("Joined at the counter")


class ReadKind(models.TextChoices):
    LOOKUP = "lookup", _("Found at the counter")
    PROFILE = "profile", _("Profile")
    LEDGER = "ledger", _("Points history")
    PAGE = "page", _("Member page")
    CONSENT = "consent", _("Consent")


class MemberRead(models.Model):
    """One read of a member's data by staff: who, when, at which store, how they were found.

    Accountability (Art. 5(2), rule 9). On erasure `member` is set to NULL: the record of what
    the staff account did stays, the link to the person goes.
    """

    member = models.ForeignKey(
        Member,
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # member_read_member (member, read_at) serves it.
        db_index=False,
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # member_read_staff (staff, read_at) serves it.
        db_index=False,
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="+"
    )
    found_by = models.CharField(verbose_name=_("found by"), max_length=12, choices=FoundBy.choices)
    kind = models.CharField(verbose_name=_("kind"), max_length=8, choices=ReadKind.choices)
    read_at = models.DateTimeField(
        verbose_name=_("read at"),
    )

    class Meta:
        verbose_name = _("member read")
        verbose_name_plural = _("member reads")
        ordering = ["-read_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "read_at"], name="member_read_member"),
            models.Index(fields=["staff", "read_at"], name="member_read_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.staff_id} at {self.read_at:%Y-%m-%d %H:%M}"


class WalletPass(models.Model):
    """An Apple Wallet pass issued to a member: its serial, for Apple's pass web service.

    The serial is a keyed hash of the member (`loyalty.wallet.pass_serial`): it names nobody.
    """

    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="wallet_pass"
    )
    serial = models.CharField(verbose_name=_("pass serial"), max_length=32, unique=True)
    issued_at = models.DateTimeField(verbose_name=_("issued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("wallet pass")
        verbose_name_plural = _("wallet passes")

    def __str__(self) -> str:
        return f"wallet pass of {self.member_id}"


class WalletDevice(models.Model):
    """A phone that asked for a pass's updates (Apple's web service registration)."""

    wallet_pass = models.ForeignKey(
        WalletPass, verbose_name=_("wallet pass"), on_delete=models.CASCADE, related_name="devices"
    )
    device_library_id = models.CharField(verbose_name=_("device library id"), max_length=128)
    push_token = models.CharField(verbose_name=_("push token"), max_length=256)
    registered_at = models.DateTimeField(verbose_name=_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("wallet device")
        verbose_name_plural = _("wallet devices")
        constraints = [
            models.UniqueConstraint(
                fields=["wallet_pass", "device_library_id"], name="wallet_device_once_per_pass"
            )
        ]

    def __str__(self) -> str:
        return f"wallet device {self.pk}"


class ParityRun(models.Model):
    """One run of the equal-benefits parity check (`loyalty.services.parity`).

    A form member and eID members, made up for the run and rolled back with everything they
    did, lived the same seeded purchases against the chain's configuration: whether they
    ended the same, and where they first did not. It names no member (none survives the run).
    """

    ran_at = models.DateTimeField(verbose_name=_("ran at"))
    passed = models.BooleanField(verbose_name=_("passed"))
    cases = models.PositiveIntegerField(verbose_name=_("cases run"))
    seed = models.PositiveBigIntegerField(verbose_name=_("seed"))
    difference = models.CharField(verbose_name=_("difference"), max_length=300, blank=True)
    # The first difference as parts (case, aspect, values) for the office's language.
    detail = models.JSONField(verbose_name=_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-ran_at", "-pk"]
        verbose_name = _("parity check run")
        verbose_name_plural = _("parity check runs")

    def __str__(self) -> str:
        return f"parity check {self.ran_at:%Y-%m-%d %H:%M} {'passed' if self.passed else 'failed'}"
