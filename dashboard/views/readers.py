"""A store's eID readers, registered and revoked by its manager if head office lets them.

Head office does it on each store's page; this page is the managers' own, for the stores they
manage. Who may is `stores.access` (the READERS_MANAGE right, switched by the chain's settings).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from dashboard import forms
from dashboard.views.common import office_page
from stores import services as store_services
from stores.access import Action, staff_access_for_request
from stores.models import ReaderDevice
from stores.selectors import reader_devices_of


def _form(store, data=None) -> forms.DeviceRegisterForm:
    # One form per store on the page: each its own ids.
    return forms.DeviceRegisterForm(data, auto_id=f"id_device_{store.code.lower()}_%s")


def _page(request, *, new_token=None, form=None, form_store=None, status=200):
    stores = list(staff_access_for_request(request).stores(Action.READERS_MANAGE).order_by("code"))
    if not stores:
        reason = _(
            "Head office registers the eID readers. It can let store managers register their "
            "own stores' readers (dashboard, Chain)."
        )
        return render(request, "dashboard/forbidden.html", {"reason": reason}, status=403)
    by_store = {store.pk: [] for store in stores}
    for device in reader_devices_of(stores):
        by_store[device.store_id].append(device)
    sections = [
        {
            "store": store,
            "devices": by_store[store.pk],
            "form": form if form is not None and form_store == store else _form(store),
        }
        for store in stores
    ]
    context = {"sections": sections, "new_token": new_token, "nav": "readers"}
    return render(request, "dashboard/readers.html", context, status=status)


@office_page()
@require_GET
def readers(request):
    return _page(request)


@office_page()
@require_POST
def reader_register(request, code: str):
    access = staff_access_for_request(request)
    if not access.may(Action.READERS_MANAGE):
        return _page(request)  # the page says who registers readers
    try:
        store = access.store(code, Action.READERS_MANAGE, require_active=False)
    except ApplicationError as error:  # not a store this manager may register readers for
        raise Http404 from error
    form = _form(store, request.POST)
    if not form.is_valid():
        return _page(request, form=form, form_store=store, status=400)
    device, token = store_services.reader_device_register(
        store=store, name=form.cleaned_data["name"], created_by=request.user
    )
    # Rendered straight away, never redirected to: the token exists only in this answer.
    return _page(request, new_token={"device": device, "token": token})


@office_page()
@require_POST
def reader_revoke(request, pk: int):
    access = staff_access_for_request(request)
    if not access.may(Action.READERS_MANAGE):
        return _page(request)
    device = ReaderDevice.objects.filter(pk=pk).first()
    if device is None or not access.may(Action.READERS_MANAGE, device.store_id):
        raise Http404
    store_services.reader_device_revoke(device=device)
    messages.success(request, _("Reader “%(name)s” revoked.") % {"name": device.name})
    return redirect("dashboard:readers")
