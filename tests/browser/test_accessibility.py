"""Every kind of page passes axe-core with no serious or critical violation,
as a visitor, as a logged-in diner and, for the admin, as staff; the review
form works from the keyboard alone; the phone header does not wrap words.

To check a new page, add a row to ``PAGES``: its path (``{diner}`` and ``{staff}`` stand for
those users' names), who looks at it, what they do first if the page needs
a state (an error shown, a message), and a selector that must be visible to
prove the page is in that state.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from .axe import assert_no_serious_violations
from .conftest import ACTION_TIMEOUT_MS, ARTIFACTS, STAFF_PASSWORD
from .pages import log_in, restaurant_path, review_authors

VISITOR, DINER, STAFF = "visitor", "diner", "staff"
DINER_PASSWORD = "Tasty-a11y-9"
REVIEWED = "Example Corp. Steaks"  # the diner's review lives here; no other browser test writes here
UNREVIEWED = "AnyCompany Mexican"  # the diner sees the review form here and never posts
KEYBOARD_RESTAURANT = "Example Corp. Thai"  # the keyboard test posts here; no other browser test writes here
BUSY = "AnyCompany Fine Dining"  # lab data: 27 reviews, so its reviews list has two pages
LAB_REVIEWER = "markmartin"


@dataclass(frozen=True)
class Accounts:
    diner: str
    staff: str
    states: dict[str, dict | None]


def log_in_as_diner(page: Page, accounts: Accounts) -> None:
    log_in(page, accounts.diner, DINER_PASSWORD)


def mistype_a_password(page: Page, accounts: Accounts) -> None:
    page.get_by_label("Username").fill(f"a11y_{uuid.uuid4().hex[:8]}")
    page.get_by_label("Password", exact=True).fill(DINER_PASSWORD)
    page.get_by_label("Password again").fill(DINER_PASSWORD + "x")
    page.get_by_role("button", name="Sign up").click()


def log_in_with_a_wrong_password(page: Page, accounts: Accounts) -> None:
    log_in(page, accounts.diner, "not-the-password-1")


def fail_to_log_in_until_paused(page: Page, accounts: Accounts) -> None:
    nobody = f"nobody_{uuid.uuid4().hex[:8]}"  # an account of its own: pausing it locks out no other test
    for _ in range(6):  # LOGIN_ATTEMPTS_PER_ACCOUNT_AND_CLIENT is 5
        log_in(page, nobody, "not-the-password-1")


def post_an_empty_review(page: Page, accounts: Accounts) -> None:
    """Sends the form without the browser's own checks, as a browser without them would."""
    page.locator("form.review-form").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Post review").click()


def run_a_cache_action(page: Page, accounts: Accounts) -> None:
    page.get_by_role("button", name="Yes, flush the page cache").click()


@dataclass(frozen=True)
class Visit:
    name: str
    path: str
    who: tuple[str, ...] = (VISITOR, DINER)
    then: Callable[[Page, Accounts], None] | None = None
    shows: str = "main h1"
    status: int = 200


PAGES = [
    Visit("restaurant list", "/", shows=".cards .card"),
    Visit("cuisine list", "/?cuisine=Italian", shows=".cards .card"),
    Visit("top rated", "/top/"),
    Visit("restaurant", restaurant_path(BUSY), who=(VISITOR,), shows="article.review"),
    Visit("restaurant with the review form", restaurant_path(UNREVIEWED), who=(DINER,), shows="form.review-form"),
    Visit("restaurant reviewed by the diner", restaurant_path(REVIEWED), who=(DINER,), shows="text=Edit your review"),
    Visit(
        "review form errors",
        restaurant_path(UNREVIEWED),
        who=(DINER,),
        then=post_an_empty_review,
        shows="#id_rating_error",
    ),
    Visit("reviews list", f"{restaurant_path(BUSY)}reviews/", shows="a[rel=next]"),
    Visit("user page", f"/users/{LAB_REVIEWER}/", shows="article.review"),
    Visit("own user page", "/users/{diner}/", who=(DINER,), shows="article.review"),
    Visit("search results", "/search/?q=example", shows="main li a"),
    Visit("search with no results", "/search/?q=zzzz-nothing", shows="main h1"),
    Visit("list sorted by rating", "/?sort=rating", shows=".cards .card"),
    Visit("user page with no reviews", "/users/{staff}/", shows="main h1"),
    Visit("account", "/accounts/", who=(DINER,), shows="main form"),
    Visit("password change", "/accounts/password/", who=(DINER,), shows="main form"),
    Visit("password reset", "/accounts/password/reset/", who=(VISITOR,), shows="main form"),
    Visit("password reset link gone", "/accounts/password/reset/MQ/set-password/", who=(VISITOR,), shows="main h1"),
    Visit("review edit", f"{restaurant_path(REVIEWED)}review/edit/", who=(DINER,), shows="form.review-form"),
    Visit("review delete", f"{restaurant_path(REVIEWED)}review/delete/", who=(DINER,), shows="text=Yes, delete it"),
    Visit("flash message", "/", who=(VISITOR,), then=log_in_as_diner, shows=".messages"),
    Visit("login", "/accounts/login/", who=(VISITOR,), shows="form"),
    Visit("login error", "/", who=(VISITOR,), then=log_in_with_a_wrong_password, shows=".form-errors"),
    Visit("signup", "/accounts/signup/", who=(VISITOR,), shows="form"),
    Visit("signup errors", "/accounts/signup/", who=(VISITOR,), then=mistype_a_password, shows="#id_password2_error"),
    Visit("too many logins", "/", who=(VISITOR,), then=fail_to_log_in_until_paused, shows=".error-code:text-is('429')"),
    Visit("not found", restaurant_path("Nowhere Diner"), shows=".error-code:text-is('404')", status=404),
    Visit("bad request", "/?sort=nonsense", shows=".error-code:text-is('400')", status=400),
    Visit("admin login", "/admin/", who=(VISITOR,), shows="#login-form"),
    Visit("admin dashboard", "/admin/", who=(STAFF,), shows="#cache-counters"),
    Visit("admin restaurants", "/admin/restaurants/", who=(STAFF,), shows="#changelist-search"),
    Visit("admin restaurant search", "/admin/restaurants/?q=Example", who=(STAFF,), shows="#changelist-search"),
    Visit("admin restaurant add", "/admin/restaurants/add/", who=(STAFF,), shows="form"),
    Visit("admin restaurant with reviews", f"/admin/restaurants/{quote(BUSY)}/", who=(STAFF,), shows="#reviews"),
    Visit(
        "admin review delete",
        f"/admin/restaurants/{quote(BUSY)}/reviews/{LAB_REVIEWER}/delete/",
        who=(STAFF,),
        shows="text=Yes, delete it",
    ),
    Visit("admin cache action", "/admin/cache/purge/", who=(STAFF,), shows="form"),
    Visit("admin message", "/admin/cache/flush-pages/", who=(STAFF,), then=run_a_cache_action, shows=".messagelist"),
    Visit("admin password change", "/admin/password_change/", who=(STAFF,), shows="form"),
]


def visits() -> list:
    return [pytest.param(visit, who, id=f"{visit.name} as {who}") for visit in PAGES for who in visit.who]


@pytest.fixture(scope="session")
def accounts(browser: Browser, site_url: str, staff_username: str) -> Accounts:
    """A diner (signed up through the site, with one review) and a staff member, each logged in once."""
    diner = f"a11y_diner_{uuid.uuid4().hex[:19]}"  # 30 characters, the longest name allowed
    context = browser.new_context(base_url=site_url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(diner)
    page.get_by_label("Password", exact=True).fill(DINER_PASSWORD)
    page.get_by_label("Password again").fill(DINER_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.goto(restaurant_path(REVIEWED))
    page.get_by_label("3 stars").check()
    page.get_by_label("Your review").fill("Fine steak, loud room.")
    page.get_by_role("button", name="Post review").click()
    expect(review_authors(page).first).to_have_text(diner)
    diner_state = context.storage_state()
    context.close()

    context = browser.new_context(base_url=site_url)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(staff_username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#cache-counters")).to_be_visible()
    staff_state = context.storage_state()
    context.close()
    return Accounts(diner=diner, staff=staff_username, states={VISITOR: None, DINER: diner_state, STAFF: staff_state})


@pytest.fixture
def open_as(browser: Browser, site_url: str, accounts: Accounts, request: pytest.FixtureRequest):
    """Opens a page in a fresh context logged in as ``who``; screenshots it if the test fails."""
    contexts = []

    def open_page(who: str, viewport: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=site_url,
            storage_state=accounts.states[who],
            viewport=viewport or {"width": 1280, "height": 900},
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, context in enumerate(contexts):
        if failed and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            name = "".join(c if c.isalnum() or c in "._-" else "_" for c in request.node.nodeid)
            context.pages[0].screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)
        context.close()


@pytest.mark.parametrize(("visit", "who"), visits())
def test_page_has_no_serious_accessibility_violations(
    visit: Visit, who: str, open_as, accounts: Accounts, axe_script: Path
):
    page = open_as(who)
    response = page.goto(visit.path.format(diner=accounts.diner, staff=accounts.staff))
    assert response is not None and response.status == visit.status
    if visit.then is not None:
        visit.then(page, accounts)
    expect(page.locator(visit.shows).first).to_be_visible()

    assert_no_serious_violations(page, axe_script, f"{visit.name} as {who}")


def press_tab_until(page: Page, selector: str, limit: int = 40) -> int:
    """Presses Tab from the top of the page until the focused element matches ``selector``; the presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("selector => document.activeElement?.matches(selector) ?? false", selector):
            return presses
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def star_glyphs(page: Page) -> str:
    """The five stars of the picker as drawn (each label's ::before), e.g. '★★★★☆'."""
    return page.locator(".star-choices label").evaluate_all(
        "labels => labels.map(label => getComputedStyle(label, '::before').content.match(/^\"(.*?)\"/)[1]).join('')"
    )


def test_a_review_is_posted_with_the_keyboard_alone(open_as, accounts: Accounts):
    page = open_as(DINER)
    page.goto(restaurant_path(KEYBOARD_RESTAURANT))
    group = page.get_by_role("group", name="Rating")
    expect(group.get_by_role("radio")).to_have_count(5)
    assert star_glyphs(page) == "☆☆☆☆☆"

    press_tab_until(page, "input[name=rating]")
    expect(group.get_by_role("radio", name="1 star", exact=True)).to_be_focused()
    focused_star = page.locator(".star-choices label:has(input:focus)")
    assert focused_star.evaluate("label => getComputedStyle(label).outlineStyle") == "solid", "no visible focus ring"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(group.get_by_role("radio", name="4 stars")).to_be_checked()
    expect(group.get_by_role("radio", name="4 stars")).to_be_focused()
    assert star_glyphs(page) == "★★★★☆"

    page.keyboard.press("Tab")
    expect(page.get_by_label("Your review")).to_be_focused()
    page.keyboard.type("Typed without a mouse: green curry, very good.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Post review")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_have_text("Thank you! Your review is published.")
    expect(page.get_by_text(f"You reviewed {KEYBOARD_RESTAURANT} (4 stars).")).to_be_visible()
    page.goto(f"/users/{accounts.diner}/")
    review = page.locator("article.review").filter(has_text=KEYBOARD_RESTAURANT)
    expect(review.get_by_role("img")).to_have_accessible_name("4.00 out of 5 stars")
    expect(review.locator(".review-text")).to_have_text("Typed without a mouse: green curry, very good.")


def test_a_rating_left_out_is_announced_with_the_rating_group(open_as):
    page = open_as(DINER)
    page.goto(restaurant_path(UNREVIEWED))
    page.get_by_label("Your review").fill("Forgot the stars.")
    post_an_empty_review(page, None)

    group = page.get_by_role("group", name="Rating")
    expect(group).to_have_accessible_description("This field is required.")
    expect(group.get_by_role("radio", name="1 star", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your review")).to_have_value("Forgot the stars.")


PHONE = {"width": 390, "height": 844}


def nav_items_on_more_than_one_line(page: Page) -> dict[str, int]:
    """Each header nav item whose words wrap, with its number of lines: the distinct heights its text's
    rectangles sit at (a text that wraps has one rectangle per line)."""
    return page.locator("header nav li").evaluate_all(
        """items => Object.fromEntries(items.map(item => {
            const walker = document.createTreeWalker(item, NodeFilter.SHOW_TEXT);
            let lines = 0;
            for (let text = walker.nextNode(); text; text = walker.nextNode()) {
                const range = document.createRange();
                range.selectNodeContents(text);
                const rects = [...range.getClientRects()].filter(rect => rect.width > 0);
                lines = Math.max(lines, new Set(rects.map(rect => Math.round(rect.top))).size);
            }
            return [item.innerText.trim(), lines];
        }).filter(([, lines]) => lines > 1))"""
    )


@pytest.mark.parametrize("who", [VISITOR, DINER])
def test_the_phone_header_wraps_no_words(who: str, open_as, accounts: Accounts):
    page = open_as(who, viewport=PHONE)
    page.goto(restaurant_path(BUSY))
    if who == DINER:
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name=accounts.diner)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-header-{who}.png"))

    assert nav_items_on_more_than_one_line(page) == {}
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
