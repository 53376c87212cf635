"""The single DynamoDB table: its definition is used by the local run, the tests and infra/.

Key design (one table, generic keys):

| item              | PK                 | SK                 | GSI1PK / GSI1SK (sparse)                    |
|-------------------|--------------------|--------------------|---------------------------------------------|
| employee profile  | ``EMP#<id>``       | ``PROFILE``        | –                                           |
| certificate       | ``EMP#<id>``       | ``CERT#<cert id>`` | –                                           |
| trip + assessment | ``EMP#<id>``       | ``TRIP#<trip id>`` | ``NOCERT`` / ``<start>#<emp id>#<trip id>`` |
| alert (outbox)    | ``EMP#<id>``       | ``ALERT#<key>``    | ``OUTBOX`` / ``<PENDING|FAILED>#<when>#…``  |
| traveler's answer | ``EMP#<id>``       | ``ANSWER#<trip>``  | –                                           |
| calendar sync     | ``SYNC#<conn id>`` | ``STATE``          | –                                           |
| connection        | ``CONN#<conn id>`` | ``CONNECTION``     | – (copies: ``EMP#<id>``, ``CONNECTIONS``)    |
| calendar event    | ``CONN#<conn id>`` | ``EVT#<uid>``      | –                                           |
| API key           | ``APIKEYS``        | ``<key id>``       | –                                           |
| audit entry       | ``AUDIT#<day>``    | ``<time>#<rand>``  | –                                           |
| push channel      | ``CHAN#<id>``      | ``CHANNEL``        | – (copy: ``CHANNELS`` / ``<expiry>#<id>``)  |

- "trips of an employee": Query PK = EMP#id, SK begins_with TRIP#.
- "trips starting between two dates that still lack a certificate": Query GSI1 with GSI1PK = NOCERT and
  GSI1SK BETWEEN the two dates; the GSI attributes exist only while a certificate is missing, so the
  index holds exactly the open cases.
- "messages to (re)send": Query GSI1 with GSI1PK = OUTBOX and GSI1SK BETWEEN ``PENDING#`` and
  ``PENDING#<now>``; a delivered message leaves the index, a message that kept failing moves to
  ``FAILED#`` (listed in HR's digest).
- "sync state of a calendar": GetItem PK = SYNC#id, SK = STATE.
- "events read from a calendar": Query PK = CONN#id, SK begins_with EVT# (normalised fields only).
- "which connection does this notification concern": GetItem PK = CHAN#id.
Every item carries ``expires_at`` (epoch seconds) for DynamoDB TTL; see retention.py.
"""

from __future__ import annotations

from typing import Any

GSI_OPEN_CASES = "GSI1"
OPEN_CASES_PK = "NOCERT"
OUTBOX_PK = "OUTBOX"
API_KEYS_PK = "APIKEYS"
AUDIT_PREFIX = "AUDIT#"
"""Audit entries are partitioned by UTC day, so "what changed between two dates" is a query per day."""
ALL_CONNECTIONS = "CONNECTIONS"
ALL_CHANNELS = "CHANNELS"
"""Partition holding every push channel sorted by expiry (``<expires ISO>#<id>``), for renewal."""
"""Partition holding a copy of every connection, for the scheduler's fan-out."""
TTL_ATTRIBUTE = "expires_at"


def table_definition(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB CreateTable (and, translated, the CloudFormation resource)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
            {"AttributeName": "GSI1PK", "AttributeType": "S"},
            {"AttributeName": "GSI1SK", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": GSI_OPEN_CASES,
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }
