"""The exceptions the web layer catches, in one place.

Views, the admin and the error middleware catch these by name. Importing them
from here keeps the web layer off ``restaurants.cache`` and
``restaurants.dynamo`` (the import-linter contracts in pyproject.toml check
it). They are the lower layers' own classes, re-exported rather than copied,
so ``except errors.NotFound`` catches exactly what the model layer raises.
"""

from .cache.accounts.ratelimit import ThrottleUnavailable
from .cache.accounts.sessions import SessionUnavailable
from .cache.plumbing.connection import REDIS_ERRORS
from .dynamo.errors import AlreadyExists, DataError, InvalidCursor, InvalidName, NotAuthorized, NotFound, Unavailable
from .dynamo.writes import AlreadyReviewed, ChangedMeanwhile, RestaurantExists

__all__ = [
    "REDIS_ERRORS",
    "AlreadyExists",
    "AlreadyReviewed",
    "ChangedMeanwhile",
    "DataError",
    "InvalidCursor",
    "InvalidName",
    "NotAuthorized",
    "NotFound",
    "RestaurantExists",
    "SessionUnavailable",
    "ThrottleUnavailable",
    "Unavailable",
]
