"""User profile items: ``USER#<username>`` / ``#PROFILE``, beside their reviews."""

from . import keys
from .client import call
from .errors import AlreadyExists, ConditionFailed, NotFound
from .items import deserialize, serialize

PROFILE_FIELDS = (
    "username",
    "password",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
    "date_joined",
    "last_login",
)


def user_item_get(*, username: str, consistent: bool = False) -> dict:
    response = call(
        "GetItem",
        Key=serialize(keys.user_item_keys(username)),
        ConsistentRead=consistent,
    )
    if "Item" not in response:
        raise NotFound(f"No user called “{username}”.")
    return deserialize(response["Item"])


def user_name_in_use(*, username: str) -> bool:
    """True if anything is stored under the name: a profile, or reviews by a
    lab or demo reviewer who has no account (whose name must stay theirs)."""
    response = call(
        "Query",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.user_key(username)}},
        Limit=1,
        ProjectionExpression="PK",
    )
    return bool(response.get("Items"))


def user_item_create(*, fields: dict) -> None:
    """Create a profile; exactly one of two simultaneous sign-ups for a name wins."""
    if user_name_in_use(username=fields["username"]):
        raise AlreadyExists(f"The username “{fields['username']}” is taken.")
    item = {**keys.user_item_keys(fields["username"]), **_present(fields)}
    try:
        call("PutItem", Item=serialize(item), ConditionExpression="attribute_not_exists(PK)")
    except ConditionFailed as error:
        raise AlreadyExists(f"The username “{fields['username']}” is taken.") from error


def user_item_update(*, username: str, fields: dict) -> None:
    """Write some profile fields of an existing user (e.g. last_login)."""
    present = _present(fields)
    removed = [name for name in fields if name not in present]
    expression = []
    if present:
        expression.append("SET " + ", ".join(f"#{name} = :{name}" for name in present))
    if removed:
        expression.append("REMOVE " + ", ".join(f"#{name}" for name in removed))
    if not expression:
        return
    params = {
        "Key": serialize(keys.user_item_keys(username)),
        "UpdateExpression": " ".join(expression),
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": {f"#{name}": name for name in fields},
    }
    if present:
        params["ExpressionAttributeValues"] = serialize({f":{name}": value for name, value in present.items()})
    call("UpdateItem", **params)


def user_item_delete(*, username: str) -> None:
    call("DeleteItem", Key=serialize(keys.user_item_keys(username)))


def _present(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if value is not None and value != ""}
