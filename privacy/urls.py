"""Public privacy pages, mounted under a language prefix (/nl/, /fr/, /en/)."""

from django.urls import path

from privacy import views
from privacy.models import TicketKind

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
    path(
        "eid/",
        views.SubjectRequestView.as_view(kind=TicketKind.EID_WITHDRAWAL),
        name="eid-withdrawal-request",
    ),
    path("sent/<str:kind>/", views.request_sent, name="request-sent"),
    path("confirm/<str:token>/", views.ConfirmView.as_view(), name="confirm"),
]
