"""A URLconf for tests/cache/test_route_match.py: an uncached view listed before
the cached restaurant page, matching one of its addresses."""

from django.http import HttpResponse
from django.urls import include, path

from restaurants import views


def special(request):
    return HttpResponse("special")


restaurant_patterns = (
    [
        path("restaurants/special/", special, name="special"),
        path("restaurants/<name:name>/", views.restaurant_detail, name="detail"),
    ],
    "restaurants",
)

urlpatterns = [path("", include(restaurant_patterns))]
