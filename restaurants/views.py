"""Pages: parse the request, call a selector, render. Nothing else."""

from django.shortcuts import render

from .dynamo import selectors
from .error_pages import not_found


def restaurant_list(request):
    cuisine = request.GET.get("cuisine") or None
    cuisines = selectors.cuisine_list()
    if cuisine and cuisine not in cuisines:
        return not_found(request, message=f"We have no {cuisine} restaurants.")
    page = selectors.restaurant_list(cuisine=cuisine, cursor=request.GET.get("cursor"))
    return render(
        request,
        "restaurants/list.html",
        {"page": page, "cuisines": cuisines, "cuisine": cuisine, "is_first_page": not request.GET.get("cursor")},
    )


def restaurant_detail(request, name: str):
    summary = selectors.restaurant_summary_get(name=name)
    return render(request, "restaurants/detail.html", {"summary": summary, "restaurant": summary.restaurant})


def restaurant_reviews(request, name: str):
    restaurant = selectors.restaurant_get(name=name)
    page = selectors.restaurant_reviews_list(name=name, cursor=request.GET.get("cursor"))
    return render(
        request,
        "restaurants/reviews.html",
        {"restaurant": restaurant, "page": page, "is_first_page": not request.GET.get("cursor")},
    )


def user_reviews(request, username: str):
    page = selectors.user_reviews_list(username=username, cursor=request.GET.get("cursor"))
    if not page.items and not request.GET.get("cursor"):
        return not_found(request, message=f"No reviewer called {username}.")
    return render(
        request,
        "restaurants/user.html",
        {"username": username, "page": page, "is_first_page": not request.GET.get("cursor")},
    )
