"""The staff audit trail: one item per admin action, in one partition.

Admin actions are rare, so one partition (``AUDIT``) sorted by time holds
them all and the latest are one Query away.
"""

import datetime as dt
from dataclasses import dataclass

from . import item_keys
from .client import call
from .items import deserialize, serialize
from .ksuid import new_ksuid


@dataclass(frozen=True)
class AuditRecord:
    id: str
    who: str
    action: str
    target: str
    result: str
    ok: bool
    at: dt.datetime


def audit_record(*, who: str, action: str, target: str = "", result: str = "", ok: bool = True) -> AuditRecord:
    now = dt.datetime.now(dt.UTC)
    # Microseconds first: KSUIDs only order by the second.
    record_id = f"{now.isoformat(timespec='microseconds')}#{new_ksuid(now)}"
    record = AuditRecord(id=record_id, who=who, action=action, target=target, result=result, ok=ok, at=now)
    item = {
        **item_keys.audit_item_keys(record.id),
        "who": who,
        "action": action,
        "target": target,
        "result": result,
        "ok": ok,
        "at": now.isoformat(timespec="seconds"),
    }
    call("PutItem", Item=serialize(item))
    return record


def audit_latest(*, limit: int = 20) -> list[AuditRecord]:
    response = call(
        "Query",
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": item_keys.AUDIT_PK}},
        ScanIndexForward=False,
        Limit=limit,
    )
    records = []
    for raw in response.get("Items", []):
        item = deserialize(raw)
        records.append(
            AuditRecord(
                id=item["SK"],
                who=item.get("who", ""),
                action=item.get("action", ""),
                target=item.get("target", ""),
                result=item.get("result", ""),
                ok=item.get("ok", True),
                at=dt.datetime.fromisoformat(item["at"]),
            )
        )
    return records
