"""Who sees what: every dashboard page starts from `office_access(user)`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden
from stores.access import Action, staff_access
from stores.models import Store


@dataclass(frozen=True)
class OfficeAccess:
    """What a staff member may see in the dashboard."""

    head_office: bool
    stores: tuple[Store, ...]
    # Whether the user registers readers somewhere (a manager, if head office lets them).
    manages_readers: bool = False

    @property
    def store_ids(self) -> set[int]:
        return {s.pk for s in self.stores}


def office_access(user: AbstractBaseUser) -> OfficeAccess:
    """Return what this user may see: head office everything, a manager their stores' figures.

    Raises Forbidden for anyone else (cashiers, users without a role).
    """
    access = staff_access(user)
    if access.may(Action.OFFICE_HEAD):
        return OfficeAccess(
            head_office=True, stores=tuple(Store.objects.order_by("code")), manages_readers=True
        )
    managed = tuple(access.stores(Action.OFFICE_FIGURES).order_by("code"))
    if not managed:
        raise Forbidden(_("The dashboard is for head office and store managers."))
    return OfficeAccess(
        head_office=False, stores=managed, manages_readers=access.may(Action.READERS_MANAGE)
    )


def office_head_required(access: OfficeAccess) -> None:
    """Raise unless the user is head office (the privacy queue, consent log, configuration)."""
    if not access.head_office:
        raise Forbidden(_("Only head office may open this page."))
