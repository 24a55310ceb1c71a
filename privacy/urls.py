"""Public privacy pages, mounted under a language prefix (/nl/, /fr/, /en/)."""

from django.urls import path

from privacy import views
from privacy.models import TicketKind
from privacy.registry import registry

app_name = "privacy"

urlpatterns = [
    path(
        "erasure/",
        views.SubjectRequestView.as_view(kind=TicketKind.ERASURE),
        name="erasure-request",
    ),
    path(
        "access/",
        views.SubjectRequestView.as_view(kind=TicketKind.ACCESS),
        name="access-request",
    ),
    # The consent withdrawals apps registered, e.g. loyalty's "eid/".
    *(
        path(k.path, views.SubjectRequestView.as_view(kind=k.code), name=k.url_name)
        for k in registry.withdrawal_kinds.values()
    ),
    path("sent/<str:kind>/", views.request_sent, name="request-sent"),
    path("confirm/<str:token>/", views.ConfirmView.as_view(), name="confirm"),
]
