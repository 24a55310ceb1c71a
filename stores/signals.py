"""Extension points of the stores app: every receiver it connects, in one place.

Cache invalidation: whatever writes an assignment, a store, a rule, a campaign, a user or the
chain's settings (a
service, the admin, a factory, a migration), the cached copy goes (stores.access,
stores.selectors.earning_terms).

And: a deleted API token (revoked, logged out, purged, its user deleted) is dropped from what
every process kept of it (core.cache.memo_forget_everywhere).

And: a new password or a deactivation revokes the user's API tokens.

`stores.services.staff_password_set` and `staff_deactivate` revoke them themselves. This
receiver is for the saves that never pass through a service of ours: the admin's user form
(the "active" box) and its password form, `manage.py changepassword`, Django's
PasswordChangeForm, a shell. It is connected for the user model only and calls the one
service, `staff_tokens_revoke`, so the rule itself stays in stores.services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save

from stores.services import staff_tokens_revoke

_CREDENTIAL_FIELDS = {"password", "is_active"}


def _revoke_tokens_on_credentials_change(sender, instance, created, update_fields, **kwargs):
    if created:
        return
    if update_fields is not None and not _CREDENTIAL_FIELDS & set(update_fields):
        return  # e.g. last_login at every login
    # set_password() keeps the new password in `_password` until the save after it, which is
    # how Django itself knows to tell the password validators (AbstractBaseUser.save).
    password_changed = getattr(instance, "_password", None) is not None
    if password_changed or not instance.is_active:
        staff_tokens_revoke(user=instance)


def _assignment_changed(sender, instance, **kwargs):
    from stores.access import staff_access_forget

    staff_access_forget(user_id=instance.user_id)


def _terms_changed(sender, instance, **kwargs):
    from stores.selectors import earning_terms_forget

    # A chain campaign (no store) and a tier reach every store's terms.
    earning_terms_forget(store_id=getattr(instance, "store_id", None))


def _user_changed(sender, instance, **kwargs):
    from stores.access import staff_user_forget

    staff_user_forget(user_id=instance.pk)


def _store_changed(sender, instance, **kwargs):
    from stores.access import store_forget

    store_forget(code=instance.code, store_id=instance.pk)


def _chain_changed(sender, instance, **kwargs):
    from stores.selectors import chain_settings_forget

    chain_settings_forget()


def _token_deleted(sender, instance, **kwargs):
    from core.cache import memo_forget_everywhere

    # Every process drops the tokens it kept (stores.authentication): refused from the next call.
    memo_forget_everywhere()


def connect() -> None:
    from stores.models import (
        Campaign,
        ChainSettings,
        EarningRule,
        StaffAssignment,
        StaffToken,
        Store,
        Tier,
    )

    post_delete.connect(_token_deleted, sender=StaffToken, weak=False)

    for signal in (post_save, post_delete):
        signal.connect(_store_changed, sender=Store, weak=False)
        signal.connect(_user_changed, sender=get_user_model(), weak=False)
        signal.connect(_assignment_changed, sender=StaffAssignment, weak=False)
        signal.connect(_terms_changed, sender=EarningRule, weak=False)
        signal.connect(_terms_changed, sender=Campaign, weak=False)
        signal.connect(_chain_changed, sender=ChainSettings, weak=False)
        signal.connect(_terms_changed, sender=Tier, weak=False)
    post_save.connect(
        _revoke_tokens_on_credentials_change,
        sender=get_user_model(),
        dispatch_uid="stores.revoke_tokens_on_credentials_change",
    )
