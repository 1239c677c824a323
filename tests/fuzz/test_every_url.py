"""Fuzzing every URL and form of the site: no request may get a 5xx, and no
exception may escape a view (Django's test client re-raises them).

Hypothesis draws requests to every URL pattern Django resolves (the site, the
accounts pages and the admin, Django's own admin views included): names the
table holds or arbitrary text in each ``<name:...>`` segment, written as the
site writes URLs or raw, arbitrary query strings, and bodies for every form
(review post/edit/delete, sign-up, login, logout, the admin's restaurant
forms, cache actions and password change) with values that can make them
valid. Each request is sent as a visitor, as a user with a review, as staff,
and with a forged session cookie. CSRF is not enforced by the test client, so
forms get past it. Derandomized, so CI runs the same requests every time;
``make test`` prints the figures (requests tried, 5xx seen) at the end.
"""

from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.requests import METHODS, Request, requests, url_templates

EXAMPLES = 10  # per URL pattern, method group and role: 25 x 3 x 4 x 10 = 3,000 requests
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: CI is deterministic
    database=None,
    suppress_health_check=list(HealthCheck),
)
cookie_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\'), max_size=60)


def send(client: Client, request: Request):
    url = request.url()
    if request.method == "POST" and not request.urlencoded:
        return client.post(url, request.body)  # multipart, as a browser's form with a file would be
    if request.method in ("POST", "PUT", "DELETE"):
        body = urlencode(request.body)
        return client.generic(request.method, url, body, content_type="application/x-www-form-urlencoded")
    return client.generic(request.method, url)


@pytest.mark.parametrize("role", ["visitor", "kim", "boss", "forged-session"])
def test_no_request_gets_a_5xx(fuzz_site, fuzz_figures, same_draws_whatever_ran_before, role):
    names, users = fuzz_site
    client = Client()  # one client: a new one would load the middleware (and scan static files) each time

    def fuzz(request: Request, cookie: str):
        if role in users:
            if SESSION_KEY not in client.session:  # the first time, or a fuzzed logout ended the session
                client.force_login(users[role])
        else:
            client.cookies.clear()  # a sign-up or login in one example does not carry over
        if role == "forged-session":
            client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        response = send(client, request)
        fuzz_figures[response.status_code] += 1
        assert response.status_code < 500, f"{role}: {request.method} {request.url()} {request.body} -> 5xx"

    # Every pattern and method gets its share of the requests, however hypothesis would draw them.
    for template in url_templates():
        for methods in METHODS:
            FUZZ_SETTINGS(given(request=requests(template, methods, names), cookie=cookie_values)(fuzz))()
