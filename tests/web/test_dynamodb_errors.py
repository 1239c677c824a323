"""What a visitor is answered when DynamoDB refuses us: an explaining 503,
never a 500 or a 404 that is not true, and the page again once it is mended."""

import logging

from django.urls import reverse

FINE_DINING = "AnyCompany Fine Dining"
OUTAGE = "We could not reach our data store. Please try again in a moment."
PAGE = reverse("restaurants:detail", args=[FINE_DINING])


def test_an_expired_token_is_a_503_and_the_next_request_has_fresh_credentials(
    client, lab_table, dynamodb_answers_error, caplog
):
    dynamodb_answers_error("ExpiredTokenException", request_id="REQ-EXPIRED")
    with caplog.at_level(logging.WARNING, logger="restaurants.error_pages"):
        refused = client.get(PAGE)
    assert refused.status_code == 503 and refused["Retry-After"]
    assert OUTAGE in refused.content.decode()
    logged = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "ExpiredTokenException" in logged[0].getMessage() and "REQ-EXPIRED" in logged[0].getMessage()
    assert "REQ-EXPIRED" not in refused.content.decode()

    again = client.get(PAGE)
    assert again.status_code == 200 and FINE_DINING in again.content.decode()


def test_an_error_code_nobody_knows_is_a_503_not_a_500(client, lab_table, dynamodb_answers_error, caplog):
    dynamodb_answers_error("SomethingNewException")
    with caplog.at_level(logging.ERROR, logger="restaurants.error_pages"):
        response = client.get(PAGE)
    assert response.status_code == 503 and OUTAGE in response.content.decode()
    assert any("SomethingNewException" in record.getMessage() for record in caplog.records)


def test_a_missing_table_is_a_503_not_a_page_that_does_not_exist(client, lab_table, settings):
    settings.DYNAMODB_TABLE = "NoSuchTable"
    response = client.get(PAGE)
    assert response.status_code == 503 and OUTAGE in response.content.decode()
    assert "NoSuchTable" not in response.content.decode()


def test_a_restaurant_that_does_not_exist_is_still_a_404(client, lab_table):
    response = client.get(reverse("restaurants:detail", args=["No Such Restaurant"]))
    assert response.status_code == 404
