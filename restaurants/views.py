"""Pages: parse the request, call a selector or a service, render."""

from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .error_pages import not_found
from .errors import AlreadyReviewed, ChangedMeanwhile, NotFound, Unavailable
from .forms import DeleteReviewForm, ReviewForm
from .templatetags import visitor_parts

TRY_AGAIN = "We could not save your review just now. Your text is still here: please try again in a moment."


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


DETAIL_TEMPLATE = "restaurants/detail.html"


def restaurant_detail(request, name: str, *, form=None, status: int = 200):
    """Every visitor sees the same page but for the account links, messages and
    the review form or their own review: those are rendered per view, the rest
    comes from the page's cached shell (``visitor_parts``). Its data (summary,
    shell, the visitor's profile and own review) is read in one round trip."""
    visitor = request.session.get(SESSION_KEY)  # who the session says; auth checks it below
    layout = visitor_parts.layout(DETAIL_TEMPLATE)
    with selectors.restaurant_page_read(name=name, username=visitor, layout=layout) as page:
        own_review = None
        if request.user.is_authenticated:
            own_review = page.own_review
            if request.user.username != page.visitor:
                own_review = selectors.own_review_get(username=request.user.username, restaurant=name)
            if own_review is None and form is None:
                form = ReviewForm(initial={"submission": services.submission_new()})
    return visitor_parts.render_page(
        request,
        DETAIL_TEMPLATE,
        {"summary": page.summary, "restaurant": page.summary.restaurant},
        {"form": form, "own_review": own_review},
        shell=page.shell,
        store=lambda shell: selectors.restaurant_page_shell_store(page=page, shell=shell),
        status=status,
    )


def top_restaurants(request):
    return render(request, "restaurants/top.html", {"entries": selectors.leaderboard_list(limit=20)})


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
        form.add_error(None, TRY_AGAIN)
        try:
            return restaurant_detail(request, name, form=form, status=503)
        except Unavailable:  # the page itself needs DynamoDB: keep the text on a page that does not
            return render(request, "restaurants/review_retry.html", {"name": name, "form": form}, status=503)
    messages.success(request, "Thank you! Your review is published.")
    return redirect("restaurants:detail", name=name)


@require_http_methods(["GET", "POST"])
@login_required
def review_edit(request, name: str):
    restaurant = selectors.restaurant_get(name=name)
    review = selectors.review_get(username=request.user.username, restaurant=name)
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
                form.add_error(None, TRY_AGAIN)
                status = 503
            else:
                messages.success(request, "Your review is updated.")
                return redirect("restaurants:detail", name=name)
    return render(request, "restaurants/review_edit.html", {"restaurant": restaurant, "form": form}, status=status)


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
        return redirect("restaurants:detail", name=name)
    form = DeleteReviewForm(
        request.POST if request.method == "POST" else None, initial={"submission": services.submission_new()}
    )
    if request.method == "GET" or not form.is_valid():
        return render(request, "restaurants/review_delete.html", {"review": review, "form": form})
    try:
        services.review_remove(review=review, submission=form.cleaned_data["submission"])
    except ChangedMeanwhile:
        messages.error(request, "Your review changed in another window meanwhile; it was not deleted.")
        return redirect(reverse("restaurants:review_delete", kwargs={"name": name}))
    messages.success(request, "Your review is deleted.")
    return redirect("restaurants:detail", name=name)
