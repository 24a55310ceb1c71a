"""The chain's public identity in every template, read only where a template uses it."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject


def chain(request):
    from stores.selectors import chain_settings

    return {"chain": SimpleLazyObject(chain_settings)}
