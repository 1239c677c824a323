"""Review writes as the site performs them: the DynamoDB transaction, then
the cache write-through, right after the write succeeded."""

from .cache import invalidation
from .dynamo import selectors
from .dynamo import services as dynamo_services
from .dynamo.entities import Review
from .dynamo.errors import DataError


def review_post(*, username: str, restaurant: str, rating: int, text: str) -> Review:
    review = dynamo_services.review_create(username=username, restaurant=restaurant, rating=rating, text=text)
    _after_write(restaurant, username, written=review)
    return review


def review_edit(*, review: Review, rating: int, text: str) -> Review:
    updated = dynamo_services.review_update(review=review, rating=rating, text=text)
    _after_write(review.restaurant, review.username, written=updated)
    return updated


def review_remove(*, review: Review) -> None:
    dynamo_services.review_delete(review=review)
    _after_write(review.restaurant, review.username, removed_id=review.id)


def _after_write(restaurant: str, username: str, *, written: Review | None = None, removed_id: str | None = None):
    try:
        summary = selectors.restaurant_summary_after_write(name=restaurant, written=written, removed_id=removed_id)
    except DataError:
        summary = None  # the write stands; the caches are dropped instead of refreshed
    invalidation.review_written(restaurant=restaurant, username=username, summary=summary)
