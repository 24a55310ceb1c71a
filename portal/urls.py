"""The store staff portal's pages, under /counter/. Store codes and ids only in URLs."""

from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views
from portal.views import wallet

app_name = "portal"

counter = "<str:store_code>/"
member = counter + "members/<str:member_ref>/"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("stores/", views.store_change, name="store_change"),
    path("stores/pick/", views.store_pick, name="store_pick"),
    path(counter, views.counter, name="counter"),
    path(counter + "search/", views.search, name="search"),
    path(counter + "join/", views.join, name="join"),
    path(counter + "eid/", views.eid_consent, name="eid_consent"),
    path(counter + "eid/<uuid:scan_id>/", views.scan, name="scan"),
    path(counter + "eid/<uuid:scan_id>/state/", views.scan_state, name="scan_state"),
    path(counter + "eid/<uuid:scan_id>/cancel/", views.scan_cancel, name="scan_cancel"),
    path(member, views.member, name="member"),
    path(member + "earn/", views.member_earn, name="member_earn"),
    path(member + "redeem/", views.member_redeem, name="member_redeem"),
    path(member + "eid/withdraw/", views.member_eid_withdraw, name="member_eid_withdraw"),
    path(member + "eid/link/", views.eid_link, name="eid_link"),
    path(member + "email/", views.member_email_add, name="member_email_add"),
    path(member + "export/", views.member_export, name="member_export"),
    path(member + "erasure/", views.member_erasure, name="member_erasure"),
    path(member + "confirm/", views.member_request_confirm, name="member_request_confirm"),
    path(member + "card/", views.member_card, name="member_card"),
    path(member + "receipt/", views.member_receipt, name="member_receipt"),
    path(member + "wallet/apple.pkpass", wallet.counter_wallet_apple, name="member_wallet_apple"),
    path(member + "wallet/google/", wallet.counter_wallet_google, name="member_wallet_google"),
    path(member + "receipt.json", views.member_receipt_json, name="member_receipt_json"),
]
