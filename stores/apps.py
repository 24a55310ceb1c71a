from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Stores and staff"

    def ready(self) -> None:
        # Cache invalidation, not business rules: whatever writes an assignment, a rule or a
        # campaign (a service, the admin, a factory, a migration), the cached copy goes.
        from django.contrib.auth import get_user_model

        from stores.access import staff_access_forget, staff_user_forget, store_forget
        from stores.models import Campaign, EarningRule, StaffAssignment, Store
        from stores.selectors import earning_terms_forget

        def assignment_changed(sender, instance, **kwargs):
            staff_access_forget(user_id=instance.user_id)

        def terms_changed(sender, instance, **kwargs):
            earning_terms_forget(store_id=instance.store_id)

        def user_changed(sender, instance, **kwargs):
            staff_user_forget(user_id=instance.pk)

        def store_changed(sender, instance, **kwargs):
            store_forget(code=instance.code, store_id=instance.pk)

        for signal in (post_save, post_delete):
            signal.connect(store_changed, sender=Store, weak=False)
            signal.connect(user_changed, sender=get_user_model(), weak=False)
            signal.connect(assignment_changed, sender=StaffAssignment, weak=False)
            signal.connect(terms_changed, sender=EarningRule, weak=False)
            signal.connect(terms_changed, sender=Campaign, weak=False)

        from stores import signals

        signals.connect()
