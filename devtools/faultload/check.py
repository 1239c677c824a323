"""After recovery: compare what writers were told and what visitors see with DynamoDB.

DynamoDB is the truth, read through the model layer with consistent reads
(the review item, the restaurant item and its counters). For each writer:

- a review is *lost* if the site confirmed a write whose text DynamoDB does
  not hold (nor that of a later write);
- a *wrong answer* is a write the site refused whose text DynamoDB holds
  (seen now, or in the edit form during the load, see ``load.Writer._saw``);
- a page is *stale* if, after recovery, it does not show what DynamoDB holds:
  the anonymous restaurant page (review text, count, average), the anonymous
  all-reviews and reviewer pages (text), and the writer's own restaurant page
  (text and their rating), unless they are no longer logged in (reported
  apart: a lost session, not a stale page).
"""

import html
import re
from dataclasses import dataclass

from django.template.defaultfilters import floatformat

from devtools.bench.web import WebServer

from .load import Writer

_COUNT = re.compile(r'<p class="muted">(\d+) reviews?</p>')
_OWN = re.compile(r"You reviewed .*? \((\d) stars?\)")


@dataclass(frozen=True)
class Truth:
    text: str | None  # None: no review of theirs in DynamoDB
    rating: int | None
    count: int
    average: str  # as the page renders it


def truth(writer: Writer) -> Truth:
    from restaurants.dynamo import reads, writes
    from restaurants.dynamo.errors import NotFound

    restaurant = reads.restaurant_get(name=writer.restaurant, consistent=True)
    try:
        review = writes.review_get(username=writer.username, restaurant=writer.restaurant)
    except NotFound:
        review = None
    return Truth(
        text=review.review if review else None,
        rating=review.rating if review else None,
        count=restaurant.review_count,
        average=floatformat(restaurant.average_rating, 2),
    )


def lost_review(writer: Writer, held: Truth) -> str | None:
    """Evidence if the last confirmed write is not (or no longer) in DynamoDB."""
    confirmed = writer.last_confirmed()
    if confirmed is None:
        return None
    match = next((write for write in writer.writes if write.text == held.text), None)
    if match is not None and match.number >= confirmed.number:
        return None
    return (
        f"{writer.username} on {writer.restaurant!r}: write {confirmed.number} ({confirmed.kind} at "
        f"{confirmed.at:.1f}s, '{confirmed.detail}') was confirmed; DynamoDB holds {held.text!r}"
    )


def wrong_answers(writer: Writer, held: Truth) -> list[str]:
    found = dict(writer.wrong)
    match = next((write for write in writer.writes if write.text == held.text), None)
    if match is not None and match.outcome == "refused" and match.number not in found:
        found[match.number] = (
            f"{writer.username}: write {match.number} ({match.kind} at {match.at:.1f}s) was answered "
            f"'{match.detail}', yet DynamoDB holds its text {held.text!r}"
        )
    return [found[number] for number in sorted(found)]


def session_lost(site: WebServer, writer: Writer) -> str | None:
    """Evidence if the writer is no longer logged in: their own page would then
    be an anonymous one, which says nothing about stale caches."""
    response = site.get(writer.paths.detail, cookies=writer.cookies)
    if response.status == 200 and b">Log out</button>" not in response.body:
        return f"{writer.username}: GET {writer.paths.detail} with their session cookie shows them logged out"
    return None


def stale_pages(site: WebServer, writer: Writer, held: Truth, *, own_page: bool = True) -> list[str]:
    """Evidence for each page that does not show what DynamoDB holds."""
    text = [html.escape(held.text)] if held.text else []
    plural = "" if held.count == 1 else "s"
    counters = [f'<p class="muted">{held.count} review{plural}</p>']
    if held.count:
        counters.append(f"<strong>{held.average}</strong>")
    own = [f"({held.rating} star"] if held.rating else ['name="review"']
    pages = [
        ("anonymous", writer.paths.detail, None, text + counters),
        ("anonymous", writer.paths.reviews, None, text),
        ("anonymous", writer.paths.user, None, text),
    ]
    if own_page:
        pages.append((writer.username, writer.paths.detail, writer.cookies, text + own))
    found = []
    for who, path, cookies, expected in pages:
        if not expected:
            continue
        response = site.get(path, cookies=cookies)
        body = response.body.decode(errors="replace")
        missing = [each for each in expected if each not in body]
        if response.status == 200 and not missing:
            continue
        found.append(
            f"{who} GET {path} -> {response.status}, X-Cache {response.headers.get('X-Cache', '-')}: "
            f"missing {missing}; shows {_shown(body, writer)}; DynamoDB holds "
            f"{held.text!r} ({held.rating} stars), {held.count} reviews, average {held.average}"
        )
    return found


def _shown(body: str, writer: Writer) -> str:
    """What the page shows of this writer's review (found by its author link,
    or its restaurant link on the reviewer's page) and of the counters."""
    review = None
    for kind, name in (("author", writer.username), ("restaurant", writer.restaurant)):
        link = rf'class="review-{kind}" href="[^"]*">{re.escape(html.escape(name))}</a>'
        review = review or re.search(link + r'.*?<p class="review-text">(.*?)</p>', body, re.S)
    count, own = _COUNT.search(body), _OWN.search(body)
    parts = [f"review {html.unescape(review.group(1)) if review else None!r}"]
    parts.append(f"count {count.group(1) if count else None}")
    if own:
        parts.append(f"own rating {own.group(1)}")
    elif 'name="review"' in body:
        parts.append("offers the form for a first review")
    return ", ".join(parts)
