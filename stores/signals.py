"""Extension point: a new password or a deactivation revokes the user's API tokens.

`stores.services.staff_password_set` and `staff_deactivate` revoke them themselves. This
receiver is for the saves that never pass through a service of ours: the admin's user form
(the "active" box) and its password form, `manage.py changepassword`, Django's
PasswordChangeForm, a shell. It is connected for the user model only and calls the one
service, `staff_tokens_revoke`, so the rule itself stays in stores.services.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

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


def connect() -> None:
    post_save.connect(
        _revoke_tokens_on_credentials_change,
        sender=get_user_model(),
        dispatch_uid="stores.revoke_tokens_on_credentials_change",
    )
