"""The model layer's exceptions: callers catch these, never botocore's."""


class DataError(Exception):
    """Base class for everything the model layer raises."""


class NotFound(DataError):
    """The item asked for does not exist."""


class AlreadyExists(DataError):
    """A conditional create found the item already there."""


class Conflict(DataError):
    """A condition failed or a transaction was cancelled by a concurrent write."""


class Unavailable(DataError):
    """DynamoDB throttled us or could not be reached; worth trying again later."""


class InvalidCursor(DataError):
    """A pagination cursor was malformed, tampered with or meant for another list."""
