"""The head-office dashboard's pages, under /office/. Store codes and ids only in URLs."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.figures, name="figures"),
    path("figures/<slug:key>.csv", views.figures_csv, name="figures_csv"),
    path("privacy/", views.tickets, name="tickets"),
    path("privacy/tickets.csv", views.tickets_csv, name="tickets_csv"),
    path("privacy/<int:pk>/", views.ticket, name="ticket"),
    path("privacy/<int:pk>/<slug:action>/", views.ticket_action, name="ticket_action"),
    path("consent/", views.consent, name="consent"),
    path("consent/log.csv", views.consent_csv, name="consent_csv"),
    path("consent/verify/", views.consent_verify, name="consent_verify"),
    path("stores/", views.stores, name="stores"),
    path("stores/stores.csv", views.stores_csv, name="stores_csv"),
    path("stores/devices.csv", views.devices_csv, name="devices_csv"),
    path("stores/<str:code>/", views.store, name="store"),
    path("stores/<str:code>/rule/", views.store_rule, name="store_rule"),
    path("stores/<str:code>/campaigns/", views.campaign_create, name="campaign_create"),
    path("stores/<str:code>/devices/", views.device_register, name="device_register"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/<int:pk>/end/", views.campaign_end, name="campaign_end"),
    path("tiers/", views.tiers, name="tiers"),
    path("coupons/", views.coupons, name="coupons"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<int:pk>/active/", views.webhook_active, name="webhook_active"),
    path("devices/<int:pk>/revoke/", views.device_revoke, name="device_revoke"),
    path("readers/", views.readers, name="readers"),
    path("readers/<str:code>/register/", views.reader_register, name="reader_register"),
    path("readers/devices/<int:pk>/revoke/", views.reader_revoke, name="reader_revoke"),
    path("rewards/", views.rewards, name="rewards"),
    path("rewards/rewards.csv", views.rewards_csv, name="rewards_csv"),
    path("rewards/<int:pk>/active/", views.reward_active, name="reward_active"),
    path("staff/", views.staff, name="staff"),
    path("staff/staff.csv", views.staff_csv, name="staff_csv"),
    path(
        "staff/<int:user_id>/tokens/revoke/",
        views.staff_tokens_revoke,
        name="staff_tokens_revoke",
    ),
    path("chain/", views.chain, name="chain"),
    path("notices/", views.notices, name="notices"),
    path("notices/notices.csv", views.notices_csv, name="notices_csv"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("reads/", views.member_reads, name="member_reads"),
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/parity/run/", views.parity_run, name="parity_run"),
    path(
        "compliance/record-of-processing.json",
        views.processing_record_download,
        name="processing_record",
    ),
    path("compliance/dpia-draft.md", views.dpia_download, name="dpia"),
    path("compliance/dpia-draft.odt", views.dpia_odt_download, name="dpia_odt"),
]
