"""The public request form: the address or member number the customer is known by, nothing more."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.hashing import IDENTIFIER_MAX, identifier_normalise


class SubjectRequestForm(forms.Form):
    identifier = forms.CharField(
        label=_("Your e-mail address or member number"),
        max_length=IDENTIFIER_MAX,
        help_text=_("The e-mail address or member number you are known by in our shops."),
        error_messages={
            "required": _("Enter your e-mail address or member number."),
            "max_length": _("This is too long for an e-mail address or member number."),
        },
    )

    def clean_identifier(self) -> str:
        value = identifier_normalise(self.cleaned_data["identifier"])
        if value is None:
            raise forms.ValidationError(
                _("Enter a valid e-mail address or member number."), code="invalid"
            )
        return value
