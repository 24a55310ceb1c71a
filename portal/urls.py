"""The store staff portal's pages."""

app_name = "portal"
urlpatterns: list = []
