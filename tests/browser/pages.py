"""What the browser tests read off the site's pages, in one place."""

from urllib.parse import quote

from playwright.sync_api import Locator, Page


def restaurant_path(name: str) -> str:
    return f"/restaurants/{quote(name)}/"


def review_authors(page: Page) -> Locator:
    return page.locator("article.review .review-author")


def histogram(page: Page) -> dict[int, int]:
    """The rating panel's histogram as {stars: count}, read from the rendered rows."""
    counts = {}
    for row in page.locator("table.histogram tr").all():
        stars = row.get_by_role("rowheader").inner_text().split()[0]
        counts[int(stars)] = int(row.locator("td.count").inner_text())
    return counts
