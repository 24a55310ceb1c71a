"""Forms of the counter screen: they only parse what the cashier typed."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.inputs import BIGINT_MAX
from stores.models import CustomerLanguage


def _key() -> str:
    return uuid.uuid4().hex


def form_focus(form: forms.Form, default: str | None = None) -> forms.Form:
    """Put the form's autofocus where the cashier types next: the first field in error, else
    `default` (else where the form's own widgets put it)."""
    target = next((name for name in form.fields if form.errors.get(name)), default)
    if target is None:
        return form
    for name, field in form.fields.items():
        if name == target:
            field.widget.attrs["autofocus"] = True
        else:
            field.widget.attrs.pop("autofocus", None)
    return form


class SearchForm(forms.Form):
    query = forms.CharField(
        label=_("Member number, e-mail, phone or name"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}
        ),
    )


class JoinForm(forms.Form):
    """Join with the form: given name, surname, e-mail, phone. Nothing else."""

    given_name = forms.CharField(
        label=_("Given name"), max_length=100, widget=forms.TextInput(attrs={"autofocus": True})
    )
    surname = forms.CharField(label=_("Surname"), max_length=100)
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )


class EarnForm(forms.Form):
    amount = forms.CharField(
        label=_("Purchase amount (EUR)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    reference = forms.CharField(label=_("Receipt number (optional)"), max_length=64, required=False)
    # A fresh key per form shown: pressing the button twice records the purchase once.
    key = forms.CharField(widget=forms.HiddenInput, initial=_key, max_length=100)

    def clean_amount(self) -> str:
        # Belgian tills write 12,50.
        return self.cleaned_data["amount"].strip().replace(" ", "").replace(",", ".")


class RedeemRewardForm(forms.Form):
    reward = forms.IntegerField(min_value=1, max_value=BIGINT_MAX, widget=forms.HiddenInput)
    key = forms.CharField(widget=forms.HiddenInput, initial=_key, max_length=100)


class RedeemPointsForm(forms.Form):
    """Part of the balance in points; its ids are its own beside the purchase form's."""

    points = forms.IntegerField(
        label=_("Points to use"),
        min_value=1,
        max_value=10_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    key = forms.CharField(widget=forms.HiddenInput, initial=_key, max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_redeem_%s")
        super().__init__(*args, **kwargs)


class ConsentForm(forms.Form):
    """What the customer saw and answered on the eID consent screen."""

    language = forms.ChoiceField(choices=CustomerLanguage.choices)
    notice_version = forms.IntegerField(min_value=1, max_value=BIGINT_MAX)
    device = forms.IntegerField(min_value=1, max_value=BIGINT_MAX)
    anonymous = forms.BooleanField(required=False)
    guardian_consent = forms.BooleanField(required=False)


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[("json", "JSON"), ("csv", "CSV")])


class ConfirmCodeForm(forms.Form):
    """The code the member received by e-mail, typed by the cashier."""

    code = forms.CharField(
        max_length=12,
        label=_("Code from the member's e-mail"),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


class EmailAddForm(forms.Form):
    """An e-mail address for a member who has none, and the language the customer read in."""

    email = forms.EmailField(max_length=254)
    language = forms.ChoiceField(choices=CustomerLanguage.choices)
