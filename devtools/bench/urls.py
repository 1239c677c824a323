"""The site's URLs plus the bench's own (``devtools.bench.settings`` only)."""

from django.urls import path
from django.views.decorators.cache import cache_page

from restaurants.views import restaurant_detail
from reviews_site.urls import handler400, handler404, handler500  # noqa: F401
from reviews_site.urls import urlpatterns as site_patterns

from . import views

STOCK_CACHE_SECONDS = 900

urlpatterns = [
    path("bench/minimal/", views.minimal, name="bench_minimal"),
    path("bench/counters/", views.counters, name="bench_counters"),
    # The real detail view behind Django's own page cache, for comparison with ours.
    path(
        "bench/stock/restaurants/<name:name>/",
        cache_page(STOCK_CACHE_SECONDS, cache="benchstock")(restaurant_detail),
        name="bench_stock_detail",
    ),
    *site_patterns,
]
