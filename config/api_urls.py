"""The versioned API: /api/v1/."""

from django.urls import path

from loyalty import api as loyalty_api
from loyalty import api_eid, api_till
from stores import api as stores_api

urlpatterns = [
    path("ping/", stores_api.PingApi.as_view(), name="ping"),
    path("auth/token/", stores_api.StaffTokenApi.as_view(), name="auth-token"),
    path("auth/logout/", stores_api.StaffLogoutApi.as_view(), name="auth-logout"),
    path("auth/logout-all/", stores_api.StaffLogoutAllApi.as_view(), name="auth-logout-all"),
    path("auth/tokens/", stores_api.StaffTokenListApi.as_view(), name="auth-tokens"),
    path(
        "staff/<int:user_id>/tokens/revoke/",
        stores_api.StaffTokensRevokeApi.as_view(),
        name="staff-tokens-revoke",
    ),
    path("stores/", stores_api.StoreListApi.as_view(), name="store-list"),
    path(
        "stores/<str:store_code>/rewards/",
        loyalty_api.RewardListApi.as_view(),
        name="store-rewards",
    ),
    path("members/", loyalty_api.MemberEnrollApi.as_view(), name="member-enroll"),
    path("members/lookup/", loyalty_api.MemberLookupApi.as_view(), name="member-lookup"),
    path("members/<str:member_ref>/", loyalty_api.MemberDetailApi.as_view(), name="member-detail"),
    path(
        "members/<str:member_ref>/ledger/",
        loyalty_api.MemberLedgerApi.as_view(),
        name="member-ledger",
    ),
    path("members/<str:member_ref>/earn/", loyalty_api.PointsEarnApi.as_view(), name="points-earn"),
    path("members/<str:member_ref>/quote/", api_till.PointsQuoteApi.as_view(), name="points-quote"),
    path(
        "members/<str:member_ref>/return/",
        api_till.PointsReturnApi.as_view(),
        name="points-return",
    ),
    path("coupons/redeem/", api_till.CouponRedeemApi.as_view(), name="coupon-redeem"),
    path(
        "members/<str:member_ref>/redeem/",
        loyalty_api.PointsRedeemApi.as_view(),
        name="points-redeem",
    ),
    path(
        "stores/<str:store_code>/devices/",
        stores_api.ReaderDeviceListApi.as_view(),
        name="device-list",
    ),
    path(
        "stores/<str:store_code>/devices/<int:device_id>/revoke/",
        stores_api.ReaderDeviceRevokeApi.as_view(),
        name="device-revoke",
    ),
    path("eid/scans/", api_eid.EidScanArmApi.as_view(), name="eid-scan-arm"),
    path("eid/scans/<uuid:scan_id>/", api_eid.EidScanDetailApi.as_view(), name="eid-scan-detail"),
    path(
        "eid/scans/<uuid:scan_id>/cancel/",
        api_eid.EidScanCancelApi.as_view(),
        name="eid-scan-cancel",
    ),
    path("device/scans/next/", api_eid.DeviceScanNextApi.as_view(), name="device-scan-next"),
    path(
        "device/scans/<str:scan_id>/",
        api_eid.DeviceScanStateApi.as_view(),
        name="device-scan-state",
    ),
    path(
        "device/scans/<str:scan_id>/read/",
        api_eid.DeviceScanReadApi.as_view(),
        name="device-scan-read",
    ),
    path(
        "device/scans/<str:scan_id>/result/",
        api_eid.DeviceScanResultApi.as_view(),
        name="device-scan-result",
    ),
    path(
        "device/scans/<str:scan_id>/failure/",
        api_eid.DeviceScanFailureApi.as_view(),
        name="device-scan-failure",
    ),
]

# Privacy at the counter (loyalty/api_privacy.py).
from loyalty import api_privacy  # noqa: E402

urlpatterns += [
    path(
        "members/<str:member_ref>/consent/",
        api_privacy.MemberConsentApi.as_view(),
        name="member-consent",
    ),
    path(
        "members/<str:member_ref>/consent/withdraw/",
        api_privacy.MemberConsentWithdrawApi.as_view(),
        name="member-consent-withdraw",
    ),
    path(
        "members/<str:member_ref>/erasure/",
        api_privacy.MemberErasureApi.as_view(),
        name="member-erasure",
    ),
    path(
        "members/<str:member_ref>/confirm/",
        api_privacy.TicketConfirmApi.as_view(),
        name="member-ticket-confirm",
    ),
    path(
        "members/<str:member_ref>/export/",
        api_privacy.MemberExportApi.as_view(),
        name="member-export",
    ),
]
