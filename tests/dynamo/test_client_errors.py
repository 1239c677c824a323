"""Every botocore error leaves ``client.py`` as one of ours (``errors.py``),
saying where it came from; refused credentials rebuild the client."""

import botocore.session
import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from restaurants.dynamo import client
from restaurants.dynamo.errors import (
    CredentialsRejected,
    DataError,
    NotAuthorized,
    NotFound,
    TransactionCancelled,
    Unavailable,
    UnknownError,
)
from restaurants.dynamo.item_keys import restaurant_item_keys
from restaurants.dynamo.writes import restaurant_create

NAME = "AnyCompany Errors"


def get_restaurant() -> dict:
    return client.call("GetItem", Key={k: {"S": v} for k, v in restaurant_item_keys(NAME).items()})


def test_an_unknown_error_code_becomes_our_unknown_error_with_where_it_came_from(table, dynamodb_answers_error):
    dynamodb_answers_error("SomethingNewException", request_id="REQ-42")
    with pytest.raises(DataError) as raised:
        get_restaurant()
    error = raised.value
    assert type(error) is UnknownError and not isinstance(error, ClientError)
    assert isinstance(error.__cause__, ClientError)
    assert (error.code, error.operation, error.table, error.request_id) == (
        "SomethingNewException",
        "GetItem",
        client.table_name(),
        "REQ-42",
    )
    assert str(error) == (
        f"The SomethingNewException of a test (SomethingNewException; GetItem on {client.table_name()}; "
        "request id REQ-42)"
    )


def test_an_unknown_code_with_a_5xx_status_is_unavailable():
    answer = {"Error": {"Code": "502"}, "ResponseMetadata": {"HTTPStatusCode": 502}}
    assert type(client.translate(ClientError(answer, "Query"))) is Unavailable


def test_every_error_dynamodb_documents_has_a_kind_of_its_own():
    """A botocore upgrade that brings a new code fails here, for someone to decide what it means."""
    session = botocore.session.get_session()
    documented = {
        name
        for service in ("dynamodb", "dynamodbstreams")
        for model in [session.get_service_model(service)]
        for name in model.shape_names
        if model.shape_for(name).metadata.get("exception")
    }
    assert documented - set(client._KINDS) == {"TransactionCanceledException"}  # translate reads its reasons


@pytest.mark.parametrize(
    "code",
    [
        "ExpiredTokenException",
        "ExpiredToken",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
    ],
)
def test_refused_credentials_are_an_outage_and_the_next_call_builds_a_new_client(table, dynamodb_answers_error, code):
    restaurant_create(name=NAME, cuisine="Thai", address="1 Test Street")
    refused = client.get_client()
    dynamodb_answers_error(code)
    with pytest.raises(CredentialsRejected) as raised:
        get_restaurant()
    assert isinstance(raised.value, Unavailable) and raised.value.code == code
    assert "Item" in get_restaurant()
    assert client.get_client() is not refused


def test_a_denied_permission_is_an_outage_that_keeps_the_client(table, dynamodb_answers_error):
    before = client.get_client()
    dynamodb_answers_error("AccessDeniedException")
    with pytest.raises(NotAuthorized) as raised:
        get_restaurant()
    assert isinstance(raised.value, Unavailable) and not isinstance(raised.value, CredentialsRejected)
    assert client.get_client() is before


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """Nothing in boto3's credential chain: no keys in the environment, no files, no instance metadata."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def test_a_client_built_before_credentials_existed_is_rebuilt_once_they_do(table, no_credentials):
    client.reset_client()  # as in a process that started before its credentials were in place
    with pytest.raises(CredentialsRejected) as raised:
        get_restaurant()
    assert raised.value.code == "NoCredentialsError" and isinstance(raised.value.__cause__, NoCredentialsError)
    no_credentials.setenv("AWS_ACCESS_KEY_ID", "testing")
    no_credentials.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert "Item" not in get_restaurant()


def test_a_late_drop_leaves_the_client_built_since_alone():
    clients = client._Clients()
    old = clients.get("dynamodb", object)
    clients.drop(old)
    new = clients.get("dynamodb", object)
    clients.drop(old)  # a second call that failed on the old client, answered after the first
    assert clients.get("dynamodb", object) is new


def test_a_cancelled_transaction_keeps_its_reasons_and_names_its_table(table):
    key = {k: {"S": v} for k, v in restaurant_item_keys(NAME).items()}
    check = {
        "ConditionCheck": {"TableName": client.table_name(), "Key": key, "ConditionExpression": "attribute_exists(PK)"}
    }
    with pytest.raises(TransactionCancelled) as raised:
        client.call("TransactWriteItems", TransactItems=[check])
    assert raised.value.reasons == ["ConditionalCheckFailed"] and raised.value.failed_action() == 0
    assert (raised.value.operation, raised.value.table) == ("TransactWriteItems", client.table_name())
    assert raised.value.request_id


def test_a_missing_table_is_not_found_and_says_which(table, settings):
    settings.DYNAMODB_TABLE = "NoSuchTable"
    with pytest.raises(NotFound) as raised:
        get_restaurant()
    assert (raised.value.code, raised.value.table) == ("ResourceNotFoundException", "NoSuchTable")
