"""The versioned API: /api/v1/."""

from django.urls import path

from loyalty import api as loyalty_api
from stores import api as stores_api

urlpatterns = [
    path("ping/", stores_api.PingApi.as_view(), name="ping"),
    path("auth/token/", stores_api.StaffTokenApi.as_view(), name="auth-token"),
    path("stores/", stores_api.StoreListApi.as_view(), name="store-list"),
    path(
        "stores/<str:store_code>/rewards/",
        loyalty_api.RewardListApi.as_view(),
        name="store-rewards",
    ),
    path("members/", loyalty_api.MemberEnrollApi.as_view(), name="member-enroll"),
    path("members/lookup/", loyalty_api.MemberLookupApi.as_view(), name="member-lookup"),
    path("members/<int:member_id>/", loyalty_api.MemberDetailApi.as_view(), name="member-detail"),
    path(
        "members/<int:member_id>/ledger/",
        loyalty_api.MemberLedgerApi.as_view(),
        name="member-ledger",
    ),
    path("members/<int:member_id>/earn/", loyalty_api.PointsEarnApi.as_view(), name="points-earn"),
    path(
        "members/<int:member_id>/redeem/",
        loyalty_api.PointsRedeemApi.as_view(),
        name="points-redeem",
    ),
]

# Privacy at the counter (loyalty/api_privacy.py).
from loyalty import api_privacy  # noqa: E402

urlpatterns += [
    path(
        "members/<int:member_id>/consent/",
        api_privacy.MemberConsentApi.as_view(),
        name="member-consent",
    ),
    path(
        "members/<int:member_id>/consent/withdraw/",
        api_privacy.MemberConsentWithdrawApi.as_view(),
        name="member-consent-withdraw",
    ),
    path(
        "members/<int:member_id>/erasure/",
        api_privacy.MemberErasureApi.as_view(),
        name="member-erasure",
    ),
    path(
        "members/<int:member_id>/export/",
        api_privacy.MemberExportApi.as_view(),
        name="member-export",
    ),
]
