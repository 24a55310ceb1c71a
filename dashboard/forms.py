"""Forms of the dashboard's pages: they parse input; services decide."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from core.inputs import BIGINT_MAX, MAX_POINTS
from loyalty.models import WebhookEvent
from privacy.models import ConsentAction, TicketState
from privacy.registry import purpose_choices, ticket_kind_choices
from stores.models import CampaignTrigger, Combination, CustomerLanguage, Rounding, StaffRole, Store

MAX_PERIOD_DAYS = 3 * 366
WEEKDAYS = [
    ("1", _("Monday")),
    ("2", _("Tuesday")),
    ("3", _("Wednesday")),
    ("4", _("Thursday")),
    ("5", _("Friday")),
    ("6", _("Saturday")),
    ("7", _("Sunday")),
]
DEFAULT_PERIOD_DAYS = 12 * 7


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class PrefixedIdsForm(forms.Form):
    """A form whose ids carry its own prefix: several forms share one page, never an id.

    Only the ids change (`id_extend_reason`, `id_reject_reason`); the field names posted stay.
    """

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Store.objects.filter(pk__in=[s.pk for s in stores])
        self.fields["store"].choices = [("", _("All"))] + [(s.pk, str(s)) for s in stores]
        self._stores = {s.pk: s for s in stores}
        if not self.is_bound:
            end = timezone.localdate()
            self.initial = {"start": end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), "end": end}

    def clean_store(self):
        # Resolved from the stores already loaded: one query less, and never outside them.
        raw = self.data.get("store")
        if not raw:
            return None
        try:
            return self._stores[int(raw)]
        except (KeyError, ValueError):
            raise forms.ValidationError(_("Choose one of your stores.")) from None

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        if (end - start).days >= MAX_PERIOD_DAYS:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        data["start"], data["end"] = start, end
        return data

    def period(self):
        """Return (start, end, store) from valid input, or the default period."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"], self.cleaned_data["store"]
        end = timezone.localdate()
        return end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end, None


class TicketFilterForm(forms.Form):
    state = forms.ChoiceField(
        required=False,
        choices=[("open", _("Open")), *TicketState.choices],
    )
    kind = forms.ChoiceField(
        required=False, choices=lambda: [("", _("All")), *ticket_kind_choices()]
    )


class VerifyForm(PrefixedIdsForm):
    id_prefix = "verify"

    note = forms.CharField(label=_("How the identity was checked"), max_length=400, required=False)


class ExtendForm(PrefixedIdsForm):
    id_prefix = "extend"

    months = forms.TypedChoiceField(
        label=_("Extend by"),
        choices=[(1, _("1 month")), (2, _("2 months"))],
        coerce=int,
    )
    reason = forms.CharField(
        label=_("Reason (told to the customer)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(PrefixedIdsForm):
    id_prefix = "reject"

    reason = forms.CharField(
        label=_("Reason (told to the customer)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConsentFilterForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("Purpose"), required=False, choices=lambda: [("", _("All")), *purpose_choices()]
    )
    store = forms.ChoiceField(label=_("Store"), required=False)
    action = forms.ChoiceField(
        label=_("Given or withdrawn"),
        required=False,
        choices=[("", _("All")), *ConsentAction.choices],
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("To"), required=False, widget=DateInput())
    before = forms.IntegerField(
        required=False, min_value=1, max_value=BIGINT_MAX, widget=forms.HiddenInput()
    )

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("All"))] + [(str(s.pk), str(s)) for s in stores]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {
            "purpose": d["purpose"],
            "store_id": int(d["store"]) if d["store"] else None,
            "action": d["action"],
            "start": d["start"],
            "end": d["end"],
        }


class EarningRuleForm(PrefixedIdsForm):
    id_prefix = "rule"

    points_per_euro = forms.DecimalField(
        label=_("Points per euro"), min_value=Decimal("0"), max_digits=6, decimal_places=2
    )
    rounding = forms.ChoiceField(label=_("Rounding"), choices=Rounding.choices)
    minimum_purchase = forms.DecimalField(
        label=_("Minimum purchase (EUR)"), min_value=Decimal("0"), max_digits=10, decimal_places=2
    )


class CampaignForm(PrefixedIdsForm):
    id_prefix = "campaign"

    name = forms.CharField(label=_("Name"), max_length=100)
    multiplier = forms.DecimalField(
        label=_("Multiplier"), min_value=Decimal("1"), max_digits=4, decimal_places=2
    )
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput())


class DeviceRegisterForm(PrefixedIdsForm):
    id_prefix = "device"

    name = forms.CharField(label=_("Reader name"), max_length=100)


class RewardForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    point_cost = forms.IntegerField(label=_("Points"), min_value=1, max_value=MAX_POINTS)
    stores = forms.ModelMultipleChoiceField(
        label=_("Offered at"),
        queryset=Store.objects.order_by("code"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class StaffAssignForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=StaffRole.choices)
    store = forms.ModelChoiceField(
        label=_("Store"), queryset=Store.objects.order_by("code"), required=False
    )

    def clean(self):
        data = super().clean()
        role, store = data.get("role"), data.get("store")
        if role == StaffRole.HEAD_OFFICE and store is not None:
            self.add_error("store", _("Head office works for every store: leave the store empty."))
        if role and role != StaffRole.HEAD_OFFICE and store is None:
            self.add_error("store", _("Choose the store."))
        return data


def _language_choices():
    """The customers' languages, named in the language head office works in."""
    return [(code, get_language_info(code)["name_translated"]) for code in CustomerLanguage.values]


class NoticeForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Purpose"), choices=purpose_choices)
    language = forms.ChoiceField(label=_("Language"), choices=_language_choices)
    text = forms.CharField(
        label=_("Notice text"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 8})
    )


class ChainForm(forms.Form):
    """What customers see of the chain: name, logo, data-protection contact, site address."""

    name = forms.CharField(label=_("Chain name"), max_length=100, required=False)
    privacy_contact = forms.EmailField(
        label=_("Data protection contact (e-mail)"), max_length=254, required=False
    )
    site_url = forms.URLField(
        label=_("Public site address"),
        max_length=200,
        required=False,
        assume_scheme="https",
        help_text=_(
            "Links in e-mails and on member cards lead here, e.g. https://loyalty.example.be"
        ),
    )
    logo = forms.FileField(label=_("Logo (PNG, JPEG, GIF or WebP, 200 KB at most)"), required=False)
    logo_remove = forms.BooleanField(label=_("Remove the logo"), required=False)
    managers_register_readers = forms.BooleanField(
        label=_("Store managers register and revoke the eID readers of their own stores"),
        required=False,
        help_text=_("Off: only head office registers readers, on each store's page."),
    )


def _code_list(value: str) -> list[str]:
    return [v for v in value.replace(",", " ").split() if v]


class CampaignComposeForm(forms.Form):
    """A campaign as data: trigger, conditions, effects (the service checks the whole)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    store = forms.ModelChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=_("Every store (chain campaign)"),
    )
    trigger = forms.ChoiceField(label=_("When"), choices=CampaignTrigger.choices)
    combination = forms.ChoiceField(
        label=_("With other campaigns"), choices=Combination.choices, initial=Combination.BEST
    )
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput())
    store_codes = forms.CharField(
        label=_("Only at these stores (codes; chain campaigns)"), required=False, max_length=500
    )
    days_of_week = forms.MultipleChoiceField(
        label=_("Days of the week"),
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minimum_amount = forms.DecimalField(
        label=_("Purchase of at least (EUR)"),
        required=False,
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
    )
    product_codes = forms.CharField(label=_("Product codes"), required=False, max_length=1000)
    categories = forms.CharField(label=_("Categories"), required=False, max_length=1000)
    tiers = forms.MultipleChoiceField(
        label=_("Members of the tiers"),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    max_per_member = forms.IntegerField(
        label=_("At most, per member"), required=False, min_value=1, max_value=100_000
    )
    max_total = forms.IntegerField(
        label=_("At most, in total"), required=False, min_value=1, max_value=100_000_000
    )
    multiplier = forms.DecimalField(
        label=_("Multiplier"),
        initial=Decimal("1"),
        min_value=Decimal("1"),
        max_value=Decimal("10"),
        max_digits=4,
        decimal_places=2,
    )
    bonus_points = forms.IntegerField(
        label=_("Bonus points"), initial=0, min_value=0, max_value=MAX_POINTS
    )
    points_per_product = forms.IntegerField(
        label=_("Points per matching product"), initial=0, min_value=0, max_value=100_000
    )
    coupon_value = forms.DecimalField(
        label=_("Coupon worth (EUR)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
    )
    coupon_product = forms.CharField(label=_("Coupon for a free"), required=False, max_length=64)
    coupon_valid_days = forms.IntegerField(
        label=_("Coupon valid for (days)"), initial=30, min_value=1, max_value=3660
    )

    def __init__(self, *args, stores, tiers, chain: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        self.fields["store"].required = not chain
        self.fields["tiers"].choices = [(t.code, t.name) for t in tiers]
        if not chain:
            del self.fields["store_codes"]

    def clean(self):
        data = super().clean()
        for name in ("product_codes", "categories", "store_codes"):
            if name in data:
                data[name] = _code_list(data[name])
        data["days_of_week"] = "".join(sorted(data.get("days_of_week") or ()))
        return data


class TierForm(forms.Form):
    code = forms.SlugField(label=_("Tier code"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=50)
    threshold = forms.IntegerField(
        label=_("Points over 12 months"), min_value=0, max_value=MAX_POINTS
    )
    multiplier = forms.DecimalField(
        label=_("Multiplier"),
        initial=Decimal("1"),
        min_value=Decimal("1"),
        max_value=Decimal("10"),
        max_digits=4,
        decimal_places=2,
    )


class CouponBulkForm(forms.Form):
    count = forms.IntegerField(label=_("How many"), min_value=1, max_value=10_000)
    value = forms.DecimalField(
        label=_("Worth (EUR)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
    )
    product = forms.CharField(label=_("Or a free"), required=False, max_length=64)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), initial=30, min_value=1, max_value=3660
    )


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(label=_("Address (https)"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError(_("An http or https address."))
        return url
