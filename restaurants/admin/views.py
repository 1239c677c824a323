"""Staff pages: the cache dashboard and its actions, and review moderation.
Every change is a POST (CSRF-checked by ``admin_view``), confirmed first, and
recorded in the audit trail."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from restaurants import services
from restaurants.cache import health, invalidation
from restaurants.cache.connection import REDIS_ERRORS, CacheDown
from restaurants.dynamo import selectors
from restaurants.dynamo import services as dynamo_services
from restaurants.dynamo.audit import audit_latest, audit_record
from restaurants.dynamo.errors import DataError, NotFound

from .actions import ACTIONS
from .forms import RestaurantForm, RestaurantSearchForm


def _render(site, request, template: str, context: dict, status: int = 200):
    return TemplateResponse(request, template, {**site.each_context(request), **context}, status=status)


def dashboard(site, request):
    try:
        counters, key_counts, redis_error = health.counters(), health.namespace_key_counts(), ""
    except (CacheDown, *REDIS_ERRORS) as error:  # the dashboard shows an outage rather than failing
        counters, key_counts, redis_error = {}, {}, str(error)
    return _render(
        site,
        request,
        "admin/staff/dashboard.html",
        {
            "title": "Cache dashboard",
            "servers": health.servers(),
            "counters": counters,
            "key_counts": key_counts,
            "redis_error": redis_error,
            "ttl_policy": health.ttl_policy(),
            "actions": ACTIONS.values(),
            "audit": audit_latest(limit=20),
        },
    )


def cache_action(site, request, slug: str):
    action = ACTIONS.get(slug)
    if action is None:
        raise Http404("No such action.")
    form = action.form_class(request.POST or None) if action.form_class else None
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form else {}
        target = data.get("restaurant", "")
        try:
            result = action.run(data)
        except (*REDIS_ERRORS, DataError) as error:
            audit_record(who=request.user.username, action=action.title, target=target, result=str(error), ok=False)
            messages.error(request, f"{action.title} failed: {error}")
        else:
            audit_record(who=request.user.username, action=action.title, target=target, result=result)
            messages.success(request, result)
        return redirect("staff:index")
    return _render(site, request, "admin/staff/confirm.html", {"title": action.title, "action": action, "form": form})


def restaurant_list(site, request):
    form = RestaurantSearchForm(request.GET or None)
    prefix = form.cleaned_data["q"] if form.is_valid() else ""
    page = selectors.restaurant_search(prefix=prefix, cursor=request.GET.get("cursor"))
    return _render(
        site, request, "admin/staff/restaurants.html", {"title": "Restaurants", "form": form, "page": page, "q": prefix}
    )


def restaurant_add(site, request):
    form = RestaurantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dynamo_services.restaurant_create(**data)
        except dynamo_services.RestaurantExists as error:
            form.add_error("name", str(error))
        else:
            invalidation.restaurant_changed(data["name"])
            audit_record(who=request.user.username, action="Create restaurant", target=data["name"], result="created")
            messages.success(request, f"Created “{data['name']}”.")
            return redirect("staff:restaurant", name=data["name"])
    return _render(site, request, "admin/staff/restaurant_form.html", {"title": "Add restaurant", "form": form})


def restaurant_edit(site, request, name: str):
    restaurant = _restaurant_or_404(name)
    initial = {"name": restaurant.name, "cuisine": restaurant.cuisine, "address": restaurant.address}
    form = RestaurantForm(request.POST or None, initial=initial, renaming_allowed=False)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        dynamo_services.restaurant_update(name=name, cuisine=data["cuisine"], address=data["address"])
        invalidation.restaurant_changed(name)
        change = f"cuisine={data['cuisine']!r}, address={data['address']!r}"
        audit_record(who=request.user.username, action="Edit restaurant", target=name, result=change)
        messages.success(request, f"Saved “{name}”.")
        return redirect("staff:restaurant", name=name)
    page = selectors.restaurant_reviews_list(name=name, cursor=request.GET.get("cursor"))
    return _render(
        site,
        request,
        "admin/staff/restaurant_form.html",
        {"title": f"Restaurant: {name}", "form": form, "restaurant": restaurant, "page": page},
    )


def review_delete(site, request, name: str, username: str):
    try:
        review = dynamo_services.review_get(username=username, restaurant=name)
    except NotFound as error:
        raise Http404(str(error)) from error
    if request.method == "POST":
        try:
            services.review_remove(review=review)
        except dynamo_services.ChangedMeanwhile:
            messages.error(request, "The review changed meanwhile; check it and delete again.")
            return redirect(reverse("staff:review_delete", kwargs={"name": name, "username": username}))
        result = f"deleted review {review.id} ({review.rating} stars)"
        audit_record(who=request.user.username, action="Delete review", target=f"{name} / {username}", result=result)
        messages.success(request, f"Deleted {username}'s review of “{name}”; its star was taken off the counters.")
        return redirect("staff:restaurant", name=name)
    return _render(site, request, "admin/staff/review_delete.html", {"title": "Delete review", "review": review})


def _restaurant_or_404(name: str):
    try:
        return selectors.restaurant_get(name=name, consistent=True)
    except NotFound as error:
        raise Http404(str(error)) from error
