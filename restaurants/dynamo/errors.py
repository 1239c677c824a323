"""The model layer's exceptions: callers catch these, never botocore's."""


class DataError(Exception):
    """Base class for everything the model layer raises.

    An error translated from DynamoDB's answer (``client.translate``) also
    says where it came from: ``code`` (DynamoDB's or botocore's name for it),
    ``operation``, ``table`` and ``request_id`` (what AWS support asks for),
    all in its message for the log. One our own code raises has none of them
    (``code`` is None), and its message is only what it was given: some are
    written for the visitor (a name taken, a page not found)."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        operation: str | None = None,
        table: str | None = None,
        request_id: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.table = table
        self.request_id = request_id

    def __str__(self) -> str:
        if self.code is None:
            return super().__str__()
        where = " ".join(filter(None, [self.operation, self.table and f"on {self.table}"]))
        context = "; ".join(filter(None, [self.code, where, self.request_id and f"request id {self.request_id}"]))
        return f"{self.message} ({context})"


class NotFound(DataError):
    """The item asked for does not exist."""


class Unreadable(NotFound):
    """The item is there but makes no entity (another client wrote a restaurant
    without a name, a review whose rating is not a number): its page is a 404,
    and the item is logged for an operator to fix, rather than a 500."""


class AlreadyExists(DataError):
    """A conditional create found the item already there."""


class Conflict(DataError):
    """A condition failed or a transaction was cancelled by a concurrent write."""


class ConditionFailed(Conflict):
    """A write's condition expression was false; the caller knows what it meant."""


class TransactionCancelled(Conflict):
    """A transaction was cancelled; ``reasons`` holds one code per action
    (``"None"``, ``"ConditionalCheckFailed"``, ``"TransactionConflict"``...)."""

    def __init__(self, message: str, reasons: list[str], **context):
        super().__init__(message, **context)
        self.reasons = reasons

    def failed_action(self) -> int | None:
        """The index of the first action whose condition failed, if any."""
        for index, code in enumerate(self.reasons):
            if code == "ConditionalCheckFailed":
                return index
        return None


class TokenReused(Conflict):
    """A ClientRequestToken came back with other parameters (IdempotentParameterMismatch):
    an earlier try of the same submission was not quite the same request."""


class Rejected(DataError):
    """DynamoDB refused the request as invalid (ValidationException): a bug on
    our side, or input that should have been refused before it got here."""


class InvalidName(DataError):
    """A restaurant name breaks the name rule (``restaurants.dynamo.names``);
    the message says which part, for the person who chose the name."""


class Unavailable(DataError):
    """DynamoDB throttled us or could not be reached; worth trying again later."""


class NotAuthorized(Unavailable):
    """DynamoDB refused us rather than the request: a permission denied
    (AccessDeniedException), a request signed with a skewed clock. To the
    visitor it is an outage like any other (503); the operator finds the code
    in the log, and must mend the role or its policy."""


class CredentialsRejected(NotAuthorized):
    """Our credentials are missing, expired or no longer known (NoCredentialsError,
    ExpiredTokenException, UnrecognizedClientException...). The client that
    used them is dropped, so the next call builds one that asks boto3's
    credential chain again and picks up refreshed ones."""


class TimedOut(Unavailable):
    """No answer within the timeout (connecting or reading): DynamoDB may only
    be slow, which the readiness probe tells apart from unreachable."""


class InvalidCursor(DataError):
    """A pagination cursor was malformed, tampered with or meant for another list."""


class IteratorExpired(DataError):
    """A stream's shard iterator is older than 15 minutes: ask for a new one."""


class RecordsTrimmed(DataError):
    """The stream no longer holds the records asked for (it keeps 24 hours):
    whatever they changed cannot be known from the stream any more."""


class UnknownError(DataError):
    """DynamoDB or botocore answered with an error this tree has no kind for
    (a code added after this was written). Kept as our own so no caller ever
    handles botocore's; the web layer answers it with a 503 and logs it."""
