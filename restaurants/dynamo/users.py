"""User profile items: ``USER#<username>`` / ``#PROFILE``, beside their reviews.

A profile's email address is also kept as a lookup item, ``EMAIL#<address>`` /
``USER#<username>``, written in the same transaction as the profile, so a
password reset finds the accounts of an address with one Query rather than a
Scan. Several accounts may give one address (as Django's own users may): an
address is not made unique, because refusing a taken one at sign-up would tell
anyone whether an address has an account here, and would let one person claim
another's address first. A reset mails every active account of the address
(each mail names its account).

The profile stays the truth: a lookup item is only a pointer, and whoever reads
it checks the profile's own address (``users_with_email``). So a profile that
another client changed without the lookup is never mailed at an address it no
longer has; one that another client wrote with an address and no lookup item
cannot be reset by email until one of our saves writes the item (any save of
the address does).
"""

from . import item_keys
from .client import call, table_name
from .errors import AlreadyExists, ConditionFailed, NotFound, TransactionCancelled, Unavailable
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
    "session_epoch",
)
# How many accounts a reset request may reach: one request must not become a flood of mails.
MAX_ACCOUNTS_PER_EMAIL = 10
# A save of the address retries this often when the address changed under it meanwhile.
EMAIL_SAVE_ATTEMPTS = 3


def user_item_get(*, username: str, consistent: bool = False) -> dict:
    response = call(
        "GetItem",
        Key=serialize(item_keys.user_item_keys(username)),
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
        ExpressionAttributeValues={":pk": {"S": item_keys.user_key(username)}},
        Limit=1,
        ProjectionExpression="PK",
    )
    return bool(response.get("Items"))


def user_item_create(*, fields: dict) -> None:
    """Create a profile (and its email lookup); exactly one of two
    simultaneous sign-ups for a name wins."""
    username = fields["username"]
    if user_name_in_use(username=username):
        raise AlreadyExists(f"The username “{username}” is taken.")
    item = {**item_keys.user_item_keys(username), **_present(fields)}
    put = {"TableName": table_name(), "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}
    try:
        if fields.get("email"):
            _transact([{"Put": put}, _lookup_put(fields["email"], username)])
        else:
            call("PutItem", **put)
    except (ConditionFailed, TransactionCancelled) as error:
        if isinstance(error, TransactionCancelled) and error.failed_action() != 0:
            raise
        raise AlreadyExists(f"The username “{username}” is taken.") from error


def user_item_update(*, username: str, fields: dict) -> None:
    """Write some profile fields of an existing user (e.g. last_login). With
    ``email`` among them, the email lookup moves in the same transaction."""
    if "email" in fields:
        _update_with_email(username, fields)
        return
    update = _profile_update(username, fields)
    if update:
        call("UpdateItem", **update)


def user_item_delete(*, username: str) -> None:
    try:
        email = user_item_get(username=username, consistent=True).get("email")
    except NotFound:
        return
    call("DeleteItem", Key=serialize(item_keys.user_item_keys(username)))
    if email:  # left behind, it would only point at a profile that is gone
        call("DeleteItem", Key=serialize(item_keys.email_lookup_keys(email, username)))


def users_with_email(*, email: str) -> list[dict]:
    """The profiles whose address is ``email`` (whatever its case), read
    consistently: from the lookup items, each checked against its profile."""
    return profiles_with_email(email=email, usernames=usernames_with_email(email=email))


def usernames_with_email(*, email: str) -> list[str]:
    """The usernames the lookup items of ``email`` point at: one consistent
    Query, the same request whether it finds any or not (a password reset
    makes it before answering, and the rest after)."""
    response = call(
        "Query",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": item_keys.email_key(email)}},
        ConsistentRead=True,
        Limit=MAX_ACCOUNTS_PER_EMAIL,
    )
    return [item_keys.username_of(lookup["SK"]) for lookup in map(deserialize, response.get("Items", []))]


def profiles_with_email(*, email: str, usernames: list[str]) -> list[dict]:
    """The profiles of ``usernames`` that still have the address ``email``."""
    profiles = []
    for username in usernames:
        try:
            profile = user_item_get(username=username, consistent=True)
        except NotFound:
            continue  # a stale pointer: the account is gone
        if item_keys.normalised_email(str(profile.get("email") or "")) == item_keys.normalised_email(email):
            profiles.append(profile)
    return profiles


def _update_with_email(username: str, fields: dict) -> None:
    """The profile's fields and its email lookup in one transaction, on
    condition that the address is still the one read just before (else read
    again and retry): a lookup item is never left pointing at an address the
    profile does not have because two saves crossed."""
    for _ in range(EMAIL_SAVE_ATTEMPTS):
        old = str(user_item_get(username=username, consistent=True).get("email") or "")
        new = str(fields.get("email") or "")
        update = _profile_update(username, fields, email_was=old)
        actions = [{"Update": update}]
        if new:  # written again even if unchanged: it mends a missing one
            actions.append(_lookup_put(new, username))
        if old and item_keys.normalised_email(old) != item_keys.normalised_email(new):
            actions.append(
                {"Delete": {"TableName": table_name(), "Key": serialize(item_keys.email_lookup_keys(old, username))}}
            )
        try:
            _transact(actions)
            return
        except TransactionCancelled as error:
            if error.failed_action() != 0:
                raise
            # The address changed meanwhile (or the profile went: the next read says NotFound).
    raise Unavailable("The email address kept changing while it was saved; please try again.")


def _profile_update(username: str, fields: dict, *, email_was: str | None = None) -> dict | None:
    """An UpdateItem of some profile fields (present ones set, empty ones
    removed) on an existing profile; ``email_was``: also on condition that the
    address is still that one."""
    present = _present(fields)
    removed = [name for name in fields if name not in present]
    expression = []
    if present:
        expression.append("SET " + ", ".join(f"#{name} = :{name}" for name in present))
    if removed:
        expression.append("REMOVE " + ", ".join(f"#{name}" for name in removed))
    if not expression:
        return None
    names = {f"#{name}": name for name in fields}
    values = {f":{name}": value for name, value in present.items()}
    condition = "attribute_exists(PK)"
    if email_was is not None:
        names["#email"] = "email"
        if email_was:
            condition += " AND #email = :email_was"
            values[":email_was"] = email_was
        else:
            condition += " AND attribute_not_exists(#email)"
    params = {
        "TableName": table_name(),
        "Key": serialize(item_keys.user_item_keys(username)),
        "UpdateExpression": " ".join(expression),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
    }
    if values:
        params["ExpressionAttributeValues"] = serialize(values)
    return params


def _lookup_put(email: str, username: str) -> dict:
    item = {**item_keys.email_lookup_keys(email, username), "username": username, "email": email}
    return {"Put": {"TableName": table_name(), "Item": serialize(item)}}


def _transact(actions: list[dict]) -> None:
    try:
        call("TransactWriteItems", TransactItems=actions)
    except TransactionCancelled as error:
        if "TransactionConflict" in error.reasons:
            raise Unavailable("Another change to this account was being saved; please try again.") from error
        raise


def _present(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if value is not None and value != ""}
