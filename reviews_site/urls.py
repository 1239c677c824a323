from django.urls import include, path

from restaurants.admin.site import staff_site
from restaurants.urls import account_patterns

urlpatterns = [
    path("admin/", staff_site.urls),
    path("accounts/", include(account_patterns)),
    path("", include("restaurants.urls")),
]

handler400 = "restaurants.error_pages.bad_request"
handler404 = "restaurants.error_pages.not_found"
handler500 = "restaurants.error_pages.server_error"
