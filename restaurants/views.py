"""Pages: parse the request, call a selector or a service, render."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST

from . import names, selectors, services
from .error_pages import (
    EDIT_NOT_CONFIRMED,
    EDIT_NOT_SAVED,
    REVIEW_NOT_CONFIRMED,
    bad_request,
    form_unavailable,
    not_found,
)
from .errors import AlreadyReviewed, ChangedMeanwhile, NotFound, Unavailable
from .forms import DeleteReviewForm, ReviewForm
from .templatetags import visitor_parts

SORT_LABELS = {"name": "Name", "rating": "Rating", "reviews": "Most reviewed"}
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def restaurant_list(request):
    """Every restaurant, or one cuisine's, sorted (``?sort=name|rating|reviews``)
    and paged (``?page=2``); the address of each page is stable and shareable."""
    cuisine = request.GET.get("cuisine") or None
    sort = request.GET.get("sort") or selectors.DEFAULT_RESTAURANT_SORT
    if sort not in selectors.RESTAURANT_SORTS:
        return bad_request(request, message="Restaurants can be sorted by name, rating or number of reviews.")
    number = request.GET.get("page") or "1"
    if not _PAGE_NUMBER.fullmatch(number):
        return bad_request(request, message="A page number is a whole number from 1.")
    cuisines = selectors.cuisine_list()
    if cuisine and cuisine not in cuisines:
        return not_found(request, message=f"We have no {cuisine} restaurants.")
    page = selectors.restaurant_page_get(cuisine=cuisine, sort=sort, number=int(number))

    def url(**changes) -> str:
        params = {"cuisine": cuisine, "sort": sort, "page": page.number, **changes}
        if params["sort"] == selectors.DEFAULT_RESTAURANT_SORT:
            del params["sort"]
        if params["page"] == 1:
            del params["page"]
        return "?" + urlencode([(key, value) for key, value in params.items() if value])

    return render(
        request,
        "restaurants/list.html",
        {
            "page": page,
            "cuisines": cuisines,
            "cuisine": cuisine,
            "sort": sort,
            "sorts": [(key, label, url(sort=key, page=1)) for key, label in SORT_LABELS.items()],
            "previous_url": url(page=page.number - 1) if page.number > 1 else None,
            "next_url": url(page=page.number + 1) if page.number < page.pages else None,
            "page_links": [(n, url(page=n)) for n in range(1, page.pages + 1)],
        },
    )


def restaurant_search(request):
    """Restaurants by name prefix (the header's search box). The page's address
    is the query's normal form: any other spelling ("Café", "The Café ") is
    sent there, so every spelling shares one cached page. A search that finds
    nothing is not kept by the page cache (``private``): otherwise any words
    typed would fill it."""
    query, cursor = request.GET.get("q", ""), request.GET.get("cursor") or None
    if len(query) > names.QUERY_MAX_LENGTH:
        return bad_request(request, message=f"Search for at most {names.QUERY_MAX_LENGTH} characters of a name.")
    normal = names.normalised_name(query)
    if query != normal:
        params = {"q": normal, **({"cursor": cursor} if cursor else {})} if normal else {}
        return redirect(reverse("restaurants:search") + (f"?{urlencode(params)}" if params else ""))
    page = selectors.restaurant_name_search(query=normal, cursor=cursor)
    context = {"query": normal, "search_query": normal, "page": page, "is_first_page": not cursor}
    response = render(request, "restaurants/search.html", context)
    if normal and not page.items:
        response["Cache-Control"] = "private"
    return response


DETAIL_TEMPLATE = "restaurants/detail.html"


def restaurant_detail(request, name: str, *, form=None, status: int = 200):
    """Every visitor sees the same page but for the account links, messages and
    the review form or their own review: those are rendered per view, the rest
    comes from the page's cached shell (``visitor_parts``). Its data (summary,
    shell, the visitor's profile and own review) is read in one round trip."""
    layout = visitor_parts.layout(DETAIL_TEMPLATE)
    with selectors.restaurant_page_read(name=name, session=request.session, layout=layout) as page:
        own_review = None
        if request.user.is_authenticated:
            own_review = page.own_review
            if request.user.username != page.visitor:
                own_review = selectors.own_review_get(username=request.user.username, restaurant=name)
            if own_review is None and form is None:
                form = visitor_parts.BlankForm(ReviewForm, {"submission": services.submission_new()})
    return visitor_parts.render_page(
        request,
        DETAIL_TEMPLATE,
        {"summary": page.summary, "restaurant": page.summary.restaurant},
        {
            "form": form,
            "own_review": own_review,
            # Shown in the latest reviews as it is now: the panel does not repeat its text.
            "own_review_listed": own_review is not None and own_review in page.summary.latest_reviews,
        },
        shell=page.shell,
        store=lambda shell: selectors.restaurant_page_shell_store(page=page, shell=shell),
        status=status,
    )


def top_restaurants(request):
    cuisine = request.GET.get("cuisine") or None
    cuisines = selectors.cuisine_list()
    if cuisine and cuisine not in cuisines:
        return not_found(request, message=f"We have no {cuisine} restaurants.")
    top = selectors.top_rated_get(cuisine=cuisine)
    return render(request, "restaurants/top.html", {"top": top, "cuisines": cuisines, "cuisine": cuisine})


def restaurant_reviews(request, name: str):
    restaurant = selectors.restaurant_get(name=name)
    page = selectors.restaurant_reviews_list(name=name, cursor=request.GET.get("cursor"))
    return render(
        request,
        "restaurants/reviews.html",
        {"restaurant": restaurant, "page": page, "is_first_page": not request.GET.get("cursor")},
    )


def user_reviews(request, username: str):
    """A user's page: their reviews newest first, or, for a user who has none
    yet, when they joined. Their own view adds edit and delete links, is read
    consistently and is never stored by any cache (it is only ever rendered
    for a request with a session, which the page cache neither serves nor
    stores; ``private`` says so to every other cache too)."""
    own = request.user.is_authenticated and request.user.username == username
    reviewer = selectors.reviewer_page_get(username=username, cursor=request.GET.get("cursor"), own=own)
    back = request.get_full_path()
    rows = [(review, _own_review_links(review, back) if own else None) for review in reviewer.page.items]
    context = {
        "username": username,
        "reviewer": reviewer,
        "page": reviewer.page,
        "rows": rows,
        "is_owner": own,
        "is_first_page": not request.GET.get("cursor"),
    }
    response = render(request, "restaurants/user.html", context)
    if own:
        patch_cache_control(response, private=True)
    return response


def _own_review_links(review, back: str) -> dict[str, str] | None:
    """Edit and delete links for one of the visitor's own reviews, returning
    to ``back``; None for a restaurant name no URL can carry."""
    query = "?" + urlencode({"next": back})
    try:
        return {
            "edit": reverse("restaurants:review_edit", args=[review.restaurant]) + query,
            "delete": reverse("restaurants:review_delete", args=[review.restaurant]) + query,
        }
    except NoReverseMatch:
        return None


def _back_to(request, name: str) -> str:
    """Where a review edit or delete returns: ``next`` (the page it was asked
    from, e.g. the user's own page), else the restaurant's page. A URL, never
    a view name: ``redirect("0")`` would look for a view called "0" (a 500)."""
    return _next_field(request) or reverse("restaurants:detail", kwargs={"name": name})


@require_POST
@login_required
def review_create(request, name: str):
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return restaurant_detail(request, name, form=form, status=400)
    try:
        services.review_post(
            username=request.user.username,
            restaurant=name,
            rating=form.cleaned_data["rating"],
            text=form.cleaned_data["review"],
            submission=form.cleaned_data["submission"],
        )
    except AlreadyReviewed:
        messages.error(request, "You have already reviewed this restaurant. You can edit your review instead.")
        return redirect("restaurants:review_edit", name=name)
    except Unavailable:
        # Not the restaurant's page: it needs DynamoDB again, and once the held write is applied it
        # shows the author's review in place of the form, with no word of what happened.
        form.add_error(None, REVIEW_NOT_CONFIRMED)
        return form_unavailable(request, "restaurants/review_retry.html", {"name": name, "form": form})
    messages.success(request, "Thank you! Your review is published.")
    return redirect("restaurants:detail", name=name)


@require_http_methods(["GET", "POST"])
@login_required
def review_edit(request, name: str):
    try:
        restaurant = selectors.restaurant_get(name=name)
        review = selectors.review_get(username=request.user.username, restaurant=name)
    except Unavailable:
        if request.method != "POST":
            raise
        form = ReviewForm(request.POST)  # nothing was sent to DynamoDB: say so, and keep the text
        form.add_error(None, EDIT_NOT_SAVED)
        return _review_edit_unavailable(request, name, form)
    initial = {"rating": review.rating, "review": review.review, "submission": services.submission_new()}
    form = ReviewForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.review_edit(
                    review=review,
                    rating=form.cleaned_data["rating"],
                    text=form.cleaned_data["review"],
                    submission=form.cleaned_data["submission"],
                )
            except ChangedMeanwhile:
                form.add_error(None, "Your review changed in another window meanwhile. Please check and save again.")
                status = 409
            except Unavailable:
                form.add_error(None, EDIT_NOT_CONFIRMED)
                return _review_edit_unavailable(request, name, form)
            else:
                messages.success(request, "Your review is updated.")
                return HttpResponseRedirect(_back_to(request, name))
    context = {"restaurant": restaurant, "form": form, "next": _next_field(request)}
    return render(request, "restaurants/review_edit.html", context, status=status)


def _review_edit_unavailable(request, name: str, form):
    """The edit form again with what was typed (the page needs only the name)."""
    context = {"restaurant": {"name": name}, "form": form, "next": _next_field(request)}
    return form_unavailable(request, "restaurants/review_edit.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def review_delete(request, name: str):
    try:
        review = selectors.review_get(username=request.user.username, restaurant=name)
    except NotFound:
        if request.method == "GET":
            raise
        # Posted again after a try whose answer was lost: the review is gone, as asked.
        messages.success(request, "Your review is deleted.")
        return HttpResponseRedirect(_back_to(request, name))
    form = DeleteReviewForm(
        request.POST if request.method == "POST" else None, initial={"submission": services.submission_new()}
    )
    if request.method == "GET" or not form.is_valid():
        context = {"review": review, "form": form, "next": _next_field(request)}
        return render(request, "restaurants/review_delete.html", context)
    try:
        services.review_remove(review=review, submission=form.cleaned_data["submission"])
    except ChangedMeanwhile:
        messages.error(request, "Your review changed in another window meanwhile; it was not deleted.")
        delete_page = reverse("restaurants:review_delete", kwargs={"name": name})
        return HttpResponseRedirect(delete_page + _next_query(request))
    messages.success(request, "Your review is deleted.")
    return HttpResponseRedirect(_back_to(request, name))


def _next_field(request) -> str:
    """``next`` as the form pages carry it on (empty when it would lead off the site)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _next_query(request) -> str:
    next_url = _next_field(request)
    return "?" + urlencode({"next": next_url}) if next_url else ""
