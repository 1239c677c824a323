"""What the browser tests read off the site's pages, in one place."""

from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

PASSWORD = "Tasty-browser-9"  # of the accounts browser tests sign up


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


def header(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def flash(page: Page) -> Locator:
    return page.locator("ul.messages")


def sign_up(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign up from the header of the page shown, and check the header then names the new user."""
    header(page).get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(header(page).get_by_role("link", name=username)).to_be_visible()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
