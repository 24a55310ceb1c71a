from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext
from django.views.generic import RedirectView
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from core.api import error_body
from core.health import healthz
from membership import views as membership_views
from portal.views import wallet


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
def api_fallback(request, rest=""):
    """Answer unknown API URLs in the API's error format."""
    return Response(error_body("not_found", gettext("No such endpoint.")), status=404)


def favicon(request):
    """Send browsers that ask for /favicon.ico to the site's icon."""
    return RedirectView.as_view(url=static("favicon.svg"), permanent=True)(request)


urlpatterns = [
    # The customers' home, in the language their browser or cookie asks for. Staff sign in
    # at /counter/ (the counter) and /office/ (head office).
    path("", membership_views.home, name="customer-root"),
    path("logo/<str:version>", membership_views.logo, name="chain-logo"),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("config.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/<path:rest>", api_fallback),
    path("i18n/", include("django.conf.urls.i18n")),
    path("counter/", include("portal.urls")),
    path("office/", include("dashboard.urls")),
]

# The member's own wallet downloads, by the link sealed for them (no language: files, redirects).
urlpatterns += [
    path("wallet/<str:token>/apple.pkpass", wallet.member_wallet_apple, name="member-wallet-apple"),
    path("wallet/<str:token>/google/", wallet.member_wallet_google, name="member-wallet-google"),
]

# Apple's pass web service, the phones' own calls (the pass's webServiceURL is /passkit/).
passkit = "passkit/v1/"
urlpatterns += [
    path(
        passkit + "devices/<str:device>/registrations/<str:pass_type>/<str:serial>",
        wallet.passkit_registration,
        name="passkit-registration",
    ),
    path(
        passkit + "devices/<str:device>/registrations/<str:pass_type>",
        wallet.passkit_serials,
        name="passkit-serials",
    ),
    path(passkit + "passes/<str:pass_type>/<str:serial>", wallet.passkit_pass, name="passkit-pass"),
    path(passkit + "log", wallet.passkit_log, name="passkit-log"),
]

# Public pages, under a language prefix: /nl/, /nl/privacy/erasure/, /de/membership/, ...
urlpatterns += i18n_patterns(
    path("", membership_views.home, name="customer-home"),
    path("privacy/", include("privacy.urls")),
    path("membership/", include("membership.urls")),
    path("wallet/<str:token>/", wallet.member_wallet, name="member-wallet"),
)

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
