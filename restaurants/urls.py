from django.urls import path, register_converter

from . import views
from .converters import NameConverter

register_converter(NameConverter, "name")

app_name = "restaurants"

urlpatterns = [
    path("", views.restaurant_list, name="list"),
    path("restaurants/<name:name>/", views.restaurant_detail, name="detail"),
    path("restaurants/<name:name>/reviews/", views.restaurant_reviews, name="reviews"),
    path("users/<name:username>/", views.user_reviews, name="user"),
]
