"""The customers' pages under a language prefix: /nl/membership/, /de/membership/me/, ..."""

from django.urls import path

from membership import views

app_name = "membership"

urlpatterns = [
    path("", views.sign_in, name="sign-in"),
    path("sent/", views.sign_in_sent, name="sign-in-sent"),
    path("link/<str:token>/", views.link, name="link"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("me/", views.me, name="me"),
    path("me/eid/", views.eid_withdraw, name="eid-withdraw"),
    path("me/offers/", views.marketing, name="marketing"),
    path("me/my-data.json", views.data_json, name="data-json"),
    path("me/my-data-csv.zip", views.data_csv, name="data-csv"),
    path("me/erasure/", views.erasure, name="erasure"),
    path("offers/confirm/<str:token>/", views.marketing_confirm, name="marketing-confirm"),
    path("offers/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
