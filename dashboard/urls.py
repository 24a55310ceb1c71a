"""The head-office dashboard's pages."""

app_name = "dashboard"
urlpatterns: list = []
