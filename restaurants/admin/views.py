"""Staff pages: the cache dashboard and its actions, and review moderation.
Every change is a POST (CSRF-checked by ``admin_view``), confirmed first, and
recorded in the audit trail."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from restaurants import selectors, services
from restaurants.errors import (
    REDIS_ERRORS,
    ChangedMeanwhile,
    DataError,
    InvalidName,
    NotFound,
    RestaurantExists,
    Unavailable,
)
from restaurants.models import User

from .actions import ACTIONS
from .forms import RestaurantForm, RestaurantSearchForm, UserActiveForm, UserSearchForm


def _render(site, request, template: str, context: dict, status: int = 200):
    return TemplateResponse(request, template, {**site.each_context(request), **context}, status=status)


def dashboard(site, request):
    health = selectors.cache_health_get()  # shows a Redis outage rather than failing
    return _render(
        site,
        request,
        "admin/staff/dashboard.html",
        {
            "title": "Cache dashboard",
            "servers": health.servers,
            "counters": health.counters,
            "key_counts": health.key_counts,
            "redis_error": health.error,
            "ttl_policy": health.ttl_policy,
            "actions": ACTIONS.values(),
            "audit": selectors.audit_record_list(limit=20),
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
            services.audit_record_create(
                who=request.user.username, action=action.title, target=target, result=str(error), ok=False
            )
            messages.error(request, f"{action.title} failed: {error}")
        else:
            services.audit_record_create(who=request.user.username, action=action.title, target=target, result=result)
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
            services.restaurant_create(name=data["name"], cuisine=data["cuisine"], address=data["address"])
        except (RestaurantExists, InvalidName) as error:
            form.add_error("name", str(error))
        else:
            services.audit_record_create(
                who=request.user.username, action="Create restaurant", target=data["name"], result="created"
            )
            messages.success(request, f"Created “{data['name']}”.")
            return redirect("staff:restaurant", name=data["name"])
    return _render(site, request, "admin/staff/restaurant_form.html", {"title": "Add restaurant", "form": form})


def restaurant_edit(site, request, name: str):
    restaurant = _restaurant_or_404(name)
    initial = {"name": restaurant.name, "cuisine": restaurant.cuisine, "address": restaurant.address}
    form = RestaurantForm(request.POST or None, initial=initial, renaming_allowed=False)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.restaurant_update(name=name, cuisine=data["cuisine"], address=data["address"])
        change = f"cuisine={data['cuisine']!r}, address={data['address']!r}"
        services.audit_record_create(who=request.user.username, action="Edit restaurant", target=name, result=change)
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
        review = selectors.review_get(username=username, restaurant=name)
    except NotFound as error:
        raise Http404(str(error)) from error
    if request.method == "POST":
        try:
            services.review_remove(review=review)
        except ChangedMeanwhile:
            messages.error(request, "The review changed meanwhile; check it and delete again.")
            return redirect(reverse("staff:review_delete", kwargs={"name": name, "username": username}))
        result = f"deleted review {review.id} ({review.rating} stars)"
        services.audit_record_create(
            who=request.user.username, action="Delete review", target=f"{name} / {username}", result=result
        )
        messages.success(request, f"Deleted {username}'s review of “{name}”; its star was taken off the counters.")
        return redirect("staff:restaurant", name=name)
    return _render(site, request, "admin/staff/review_delete.html", {"title": "Delete review", "review": review})


def user_search(site, request):
    form = UserSearchForm(request.GET or None)
    if form.is_valid():
        return redirect("staff:user", username=form.cleaned_data["username"])
    return _render(site, request, "admin/staff/users.html", {"title": "Users", "form": form})


def user_account(site, request, username: str):
    """One account: whether it may log in, and the button that deactivates it
    (ending every session of it at its next request) or reactivates it. Read
    from DynamoDB, never the cached profile: staff act on what is stored."""
    user = _user_or_404(username)
    form = UserActiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        active = form.cleaned_data["active"]
        title = "Reactivate user" if active else "Deactivate user"
        if user.username == request.user.username and not active:
            messages.error(request, "You cannot deactivate your own account here: ask another staff member.")
            return redirect("staff:user", username=user.username)
        try:
            services.user_active_set(user=user, active=active)
        except Unavailable as error:
            services.audit_record_create(
                who=request.user.username, action=title, target=user.username, result=str(error), ok=False
            )
            messages.error(request, f"{title} failed, nothing was changed: {error}")
        else:
            result = "can log in again" if active else "cannot log in or post; every session of it ended"
            services.audit_record_create(who=request.user.username, action=title, target=user.username, result=result)
            messages.success(request, f"{user.username} {result}.")
        return redirect("staff:user", username=user.username)
    return _render(site, request, "admin/staff/user.html", {"title": f"User: {user.username}", "account": user})


def _user_or_404(username: str) -> User:
    try:
        return User.objects.get_for_login(username)
    except User.DoesNotExist as error:
        raise Http404(str(error)) from error


def _restaurant_or_404(name: str):
    try:
        return selectors.restaurant_get(name=name, consistent=True)
    except NotFound as error:
        raise Http404(str(error)) from error
