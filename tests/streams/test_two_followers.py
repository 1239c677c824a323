"""Two consumers of the same stream at once (a Lambda and follow_stream, or
two hosts): each applies every record, at its own pace, and in batches of its
own; the list and top pages must still show what the table stores (moto's
mock and DynamoDB Local with a stream; fakeredis). The consumers take turns
one pass at a time, in orders that broke them, never sleeping."""

import re

import pytest
from django.urls import reverse

from restaurants import services, stream_follower
from restaurants.cache.data import leaderboard
from restaurants.dynamo import reads
from tests import lab_scripts

pytestmark = pytest.mark.stream

FINE_DINING = "AnyCompany Fine Dining"
THAI = "Example Corp. Thai"
# A restaurant's name and review count on the top page and the list sorted by rating.
# (The first "<N> review" after the name, before the next entry's heading.)
ENTRY_COUNT = re.compile(r">([^<]+)</a></h2>(?:(?!</h2>).)*?(\d+) review", re.S)


@pytest.fixture
def followers(lab_table):
    pair = stream_follower.StreamFollower(), stream_follower.StreamFollower()
    for follower in pair:
        follower.catch_up()
    leaderboard.rebuild()
    return pair


def _assert_pages_show_the_table(client) -> None:
    stored = {name: reads.restaurant_get(name=name, consistent=True).review_count for name in (FINE_DINING, THAI)}
    for path in (reverse("restaurants:top"), reverse("restaurants:list") + "?sort=rating"):
        page = client.get(path)
        assert page.status_code == 200 and page["X-Cache"] == "MISS"  # freshly rendered
        shown = {name: int(count) for name, count in ENTRY_COUNT.findall(page.content.decode())}
        assert {name: shown[name] for name in stored} == stored, path


def _outside_review(name: str, number: int) -> None:
    lab_scripts.create_review(restaurant=name, username=f"outside{number}", rating=5, review="Outside.")


def test_rounds_of_outside_and_site_reviews_leave_the_pages_as_the_table_is(followers, client):
    """Each follower reads a round in batches of its own: the second one's
    batch spans states the first one (or the site's write-through) put on
    the board in between."""
    first, second = followers
    for number in range(3):
        _outside_review(FINE_DINING, 10 * number)
        first.catch_up()
        services.review_post(username=f"site{number}", restaurant=FINE_DINING, rating=1, text="On the site.")
        _outside_review(FINE_DINING, 10 * number + 1)
        _outside_review(THAI, 10 * number + 2)
        second.catch_up()
        first.catch_up()
    _assert_pages_show_the_table(client)
