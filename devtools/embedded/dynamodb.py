"""The embedded DynamoDB: AWS's DynamoDB Local, or moto's server where Java is missing.

``make run``, ``make bench`` and the integration tests call
``start_embedded_dynamodb`` and get an object with ``url``, ``kind``,
``persistent`` and ``stop()``, whichever implementation answered. Only
DynamoDB Local keeps data on disk; with moto the caller must save the table
itself (``run_local`` exports it on exit).
"""

import logging
import os
from typing import Protocol

from .dynamodb_local import DynamoDBLocalUnavailable, start_dynamodb_local

logger = logging.getLogger(__name__)


class EmbeddedDynamoDB(Protocol):
    url: str
    kind: str
    persistent: bool

    def stop(self) -> None: ...


def start_embedded_dynamodb(
    *, port: int = 0, db_path: str | os.PathLike | None = None, notice=logger.warning, say=None
) -> EmbeddedDynamoDB:
    """DynamoDB Local if a Java runtime can run it, else moto's server (with one ``notice`` line saying so).
    ``say`` gets the lines of a first start's fetch and compilation (stderr by default).

    ``EMBEDDED_DYNAMODB=moto`` asks for moto on purpose (to compare the two);
    ``EMBEDDED_DYNAMODB=dynamodb-local`` refuses the fallback (``make test``)."""
    choice = os.environ.get("EMBEDDED_DYNAMODB", "").lower()
    if choice != "moto":
        try:
            return start_dynamodb_local(port=port, db_path=db_path, say=say)
        except DynamoDBLocalUnavailable as reason:
            if choice == "dynamodb-local":
                raise
            notice(f"DynamoDB Local cannot run here ({reason}): falling back to moto's server, in memory and slower.")
    from .moto_server import start_moto_dynamodb

    return start_moto_dynamodb(port=port)
