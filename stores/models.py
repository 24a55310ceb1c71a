"""The chain's stores, per-store configuration, staff roles and reader devices.

One deployment serves one chain, named in settings.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class Language(models.TextChoices):
    """A store's language: the staff pages' languages."""

    NL = "nl", "Nederlands"
    FR = "fr", "Français"
    EN = "en", "English"


class CustomerLanguage(models.TextChoices):
    """The customer's pages, notices and mails: also German, Belgium's third language."""

    NL = "nl", "Nederlands"
    FR = "fr", "Français"
    DE = "de", "Deutsch"
    EN = "en", "English"


class Store(models.Model):
    code = models.CharField(
        verbose_name=_("code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9-]+$", "Upper-case letters, digits and dashes.")],
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    city = models.CharField(verbose_name=_("city"), max_length=100)
    language = models.CharField(
        verbose_name=_("language"), max_length=2, choices=Language.choices, default=Language.NL
    )
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Rounding(models.TextChoices):
    DOWN = "down", _("Round down")
    NEAREST = "nearest", _("Round to nearest")
    UP = "up", _("Round up")


class EarningRule(models.Model):
    """How a store turns a purchase into points. Never depends on who the member is."""

    store = models.OneToOneField(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="earning_rule"
    )
    points_per_euro = models.DecimalField(
        verbose_name=_("points per euro"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    rounding = models.CharField(
        verbose_name=_("rounding"), max_length=10, choices=Rounding.choices, default=Rounding.DOWN
    )
    minimum_purchase = models.DecimalField(
        verbose_name=_("minimum purchase"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    pending_days = models.PositiveIntegerField(
        verbose_name=_("pending days"),
        default=0,
        help_text=_("The store's return window: points earned here are spendable after it."),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(points_per_euro__gte=0) & Q(minimum_purchase__gte=0),
                name="earning_rule_non_negative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store.code}: {self.points_per_euro} pt/EUR"


class CampaignTrigger(models.TextChoices):
    PURCHASE = "purchase", _("A purchase")
    JOIN = "join", _("Joining")
    ANNIVERSARY = "anniversary", _("The membership anniversary")
    FIRST_STORE_PURCHASE = "first_store", _("The first purchase at a store")
    RETURN = "return", _("A return")


class Combination(models.TextChoices):
    BEST = "best", _("Best one wins")
    ADD = "add", _("Adds up")


class Campaign(models.Model):
    """A campaign as data: a trigger, conditions and effects, composed in the office.

    Conditions read the purchase (amount, store, time, basket lines the till sent) and the
    member's facts in `loyalty.rules.MemberFacts` only (tier, first purchase at the store,
    times this campaign applied): nothing that tells how a member joined (rule 2).
    `store` is the store that owns it (a store manager's campaign); None is a chain campaign
    of head office, which `store_codes` may narrow to some stores.
    """

    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="campaigns",
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    trigger = models.CharField(
        verbose_name=_("trigger"),
        max_length=12,
        choices=CampaignTrigger.choices,
        default=CampaignTrigger.PURCHASE,
    )
    combination = models.CharField(
        verbose_name=_("combination"),
        max_length=4,
        choices=Combination.choices,
        default=Combination.BEST,
    )
    # Conditions (empty means "any").
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    store_codes = models.JSONField(verbose_name=_("store codes"), default=list, blank=True)
    days_of_week = models.CharField(
        verbose_name=_("days of week"),
        max_length=7,
        blank=True,
        help_text=_("ISO days, 1 = Monday ... 7 = Sunday: e.g. 67."),
    )
    minimum_amount = models.DecimalField(
        verbose_name=_("minimum amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    product_codes = models.JSONField(verbose_name=_("product codes"), default=list, blank=True)
    categories = models.JSONField(verbose_name=_("categories"), default=list, blank=True)
    tiers = models.JSONField(verbose_name=_("tiers"), default=list, blank=True)
    max_per_member = models.PositiveIntegerField(
        verbose_name=_("max per member"), null=True, blank=True
    )
    max_total = models.PositiveIntegerField(verbose_name=_("max total"), null=True, blank=True)
    # Effects.
    multiplier = models.DecimalField(
        verbose_name=_("multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("1"))],
    )
    bonus_points = models.PositiveIntegerField(verbose_name=_("bonus points"), default=0)
    points_per_product = models.PositiveIntegerField(
        verbose_name=_("points per product"), default=0
    )
    coupon_value = models.DecimalField(
        verbose_name=_("coupon value"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    coupon_product = models.CharField(verbose_name=_("coupon product"), max_length=64, blank=True)
    coupon_valid_days = models.PositiveIntegerField(verbose_name=_("coupon valid days"), default=30)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["store", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="campaign_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gte=1), name="campaign_multiplier_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tier(models.Model):
    """A level of membership by points earned over a rolling 12 months (head office sets them).

    Reached by points alone, so by every member alike whatever channel they joined by.
    """

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9-]+$", _("Lower-case letters, digits and dashes."))],
    )
    name = models.CharField(verbose_name=_("name"), max_length=50)
    threshold = models.PositiveIntegerField(
        verbose_name=_("threshold"), help_text=_("Points earned over 12 months to reach it.")
    )
    multiplier = models.DecimalField(
        verbose_name=_("multiplier"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("1"))],
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["threshold"], name="tier_threshold_unique"),
            models.CheckConstraint(condition=Q(multiplier__gte=1), name="tier_multiplier_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffRole(models.TextChoices):
    CASHIER = "cashier", _("Cashier")
    STORE_MANAGER = "store_manager", _("Store manager")
    HEAD_OFFICE = "head_office", _("Head office")


class StaffAssignment(models.Model):
    """A user's role: in one store (cashier, manager), or chain-wide (head office, no store)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_assignments",
    )
    store = models.ForeignKey(
        Store,
        verbose_name=_("store"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff_assignments",
    )
    role = models.CharField(verbose_name=_("role"), max_length=20, choices=StaffRole.choices)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="one_role_per_user_and_store"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(store__isnull=True), name="one_head_office_role"
            ),
            models.CheckConstraint(
                condition=(Q(role="head_office") & Q(store__isnull=True))
                | (~Q(role="head_office") & Q(store__isnull=False)),
                name="head_office_has_no_store",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} {self.store.code if self.store else 'all stores'}"


class ReaderDevice(models.Model):
    """An eID reader at a store's counter. Its token is shown once and stored hashed."""

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="reader_devices"
    )
    name = models.CharField(verbose_name=_("name"), max_length=100)
    token_hash = models.CharField(verbose_name=_("token hash"), max_length=64, unique=True)
    token_prefix = models.CharField(verbose_name=_("token prefix"), max_length=8)
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(verbose_name=_("revoked at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(verbose_name=_("last seen at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reader device")
        verbose_name_plural = _("reader devices")
        ordering = ["store", "name"]

    def __str__(self) -> str:
        return f"{self.store.code} / {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class StaffToken(AbstractAuthToken):
    """A staff member's API token (django-rest-knox): one per login, or per device named at
    login, expiring after `STAFF_TOKEN_TTL_HOURS`. Only its hash is kept; the token itself is
    shown once, in the login's answer.

    A surrogate id replaces knox's primary key (the digest), so that a token can be named in
    a list or a form without handing out its hash.
    """

    id = models.BigAutoField(verbose_name=_("id"), primary_key=True)
    digest = models.CharField(
        verbose_name=_("digest"), max_length=CONSTANTS.DIGEST_LENGTH, unique=True
    )
    device = models.CharField(verbose_name=_("device"), max_length=100, blank=True, default="")
    # knox's own fields, named for the admin in the reader's language.
    token_key = models.CharField(
        verbose_name=_("token key"),
        max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH,
        db_index=True,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        related_name="auth_token_set",
        on_delete=models.CASCADE,
    )
    created = models.DateTimeField(verbose_name=_("created"), auto_now_add=True)
    expiry = models.DateTimeField(verbose_name=_("expiry"), null=True, blank=True)

    class Meta:
        # No default ordering: every API call reads its token, and an ORDER BY there costs the
        # ORM more to build than the database spends on the row.
        verbose_name = _("staff API token")
        verbose_name_plural = _("staff API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.device or 'token'} {self.created:%Y-%m-%d %H:%M}"


class ChainSettings(models.Model):
    """What customers see of the chain (name, logo, data-protection contact, site address), and
    what head office lets store managers do (register their stores' readers).

    One row (pk 1), edited by head office in the dashboard; read through
    `stores.selectors.chain_settings` (cached). Empty fields fall back to settings
    (CHAIN_NAME, SITE_URL).
    """

    name = models.CharField(verbose_name=_("chain name"), max_length=100, blank=True)
    logo = models.BinaryField(verbose_name=_("logo image"), blank=True, default=b"", editable=False)
    logo_type = models.CharField(
        verbose_name=_("logo type"), max_length=20, blank=True, help_text="image/png, image/jpeg..."
    )
    privacy_contact = models.CharField(
        verbose_name=_("data protection contact"),
        max_length=254,
        blank=True,
        help_text="The data-protection contact customers write to: an e-mail address.",
    )
    site_url = models.URLField(
        verbose_name=_("public site address"),
        max_length=200,
        blank=True,
        help_text="The public site's address, e.g. https://loyalty.example.be (no path).",
    )
    managers_register_readers = models.BooleanField(
        verbose_name=_("store managers register readers"),
        default=False,
        help_text=_(
            "Store managers may register and revoke the eID readers of their own stores. "
            "Head office always may."
        ),
    )
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("chain settings")
        verbose_name_plural = _("chain settings")

    def __str__(self) -> str:
        return self.name or "chain settings"
