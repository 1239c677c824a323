"""Session items: ``SESSION#<key>`` / ``#SESSION``, the truth behind Redis's copy.

An item holds the session as Django encodes it (signed JSON, compressed: a
client that can write the table but lacks ``SECRET_KEY`` cannot forge one)
and ``expires_at``, epoch seconds, which is the table's TTL attribute.
DynamoDB deletes expired items late (often days after), so a reader checks
``expires_at`` itself (``restaurants.cache.accounts.sessions``).

The items carry no index attribute: no GSI sees them, and the lab's scripts,
which query GSI1 by restaurant, never meet one.
"""

from dataclasses import dataclass

from . import item_keys
from .client import call
from .errors import AlreadyExists, ConditionFailed, NotFound
from .items import serialize


@dataclass(frozen=True)
class StoredSession:
    data: str  # as SessionBase.encode made it
    expires_at: int  # epoch seconds


def session_item_get(*, session_key: str) -> StoredSession | None:
    """The session as last saved (a consistent read: a session saved a moment
    ago, while Redis was down, must be found), expired or not; None if absent
    or not in our shape."""
    response = call("GetItem", Key=serialize(item_keys.session_item_keys(session_key)), ConsistentRead=True)
    item = response.get("Item") or {}
    data, expires_at = item.get("data", {}).get("S"), item.get(item_keys.EXPIRY_ATTRIBUTE, {}).get("N")
    if data is None or expires_at is None:
        return None
    try:
        return StoredSession(data, int(float(expires_at)))
    except ValueError:
        return None


def session_item_put(*, session_key: str, data: str, expires_at: int, create: bool) -> None:
    """Save a session. ``create``: only if no session has that key
    (``AlreadyExists`` otherwise: the caller draws another key); else only
    if it still exists (``NotFound``: it ended meanwhile, and a request that
    loaded it before must not bring it back)."""
    item = {**item_keys.session_item_keys(session_key), "data": data, item_keys.EXPIRY_ATTRIBUTE: expires_at}
    condition = "attribute_not_exists(PK)" if create else "attribute_exists(PK)"
    try:
        call("PutItem", Item=serialize(item), ConditionExpression=condition)
    except ConditionFailed as error:
        if create:
            raise AlreadyExists("A session with that key exists.") from error
        raise NotFound("The session has ended.") from error


def session_item_delete(*, session_key: str) -> None:
    call("DeleteItem", Key=serialize(item_keys.session_item_keys(session_key)))
