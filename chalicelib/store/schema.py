"""The single DynamoDB table: its definition is used by the local run, the tests and infra/.

Key design (one table, generic keys):

| item              | PK                 | SK                 | GSI1PK / GSI1SK (sparse)                    |
|-------------------|--------------------|--------------------|---------------------------------------------|
| employee profile  | ``EMP#<id>``       | ``PROFILE``        | –                                           |
| certificate       | ``EMP#<id>``       | ``CERT#<cert id>`` | –                                           |
| trip + assessment | ``EMP#<id>``       | ``TRIP#<trip id>`` | ``NOCERT`` / ``<start>#<emp id>#<trip id>`` |
| trip version      | ``EMP#<id>``       | ``TRIPHIST#<trip id>#<version, 6 digits>`` | –                   |
| HR's override     | ``EMP#<id>``       | ``OVERRIDE#<trip id>`` | –                                       |
| trip's owner      | ``TRIPID#<trip>``  | ``OWNER``          | –                                           |
| alert (outbox)    | ``EMP#<id>``       | ``ALERT#<key>``    | ``OUTBOX`` / ``<PENDING|FAILED>#<when>#…``  |
| traveler's answer | ``EMP#<id>``       | ``ANSWER#<trip>``  | –                                           |
| calendar sync     | ``SYNC#<conn id>`` | ``STATE``          | –                                           |
| last read failure | ``SYNC#<conn id>`` | ``ERROR``          | –                                           |
| sync lease        | ``SYNC#<conn id>`` | ``LEASE``          | –                                           |
| provider back-off | ``PROVIDER#<src>`` | ``BACKOFF``        | –                                           |
| connection        | ``CONN#<conn id>`` | ``CONNECTION``     | – (copies: ``EMP#<id>``, ``CONNECTIONS``)    |
| calendar event    | ``CONN#<conn id>`` | ``EVT#<uid>``      | –                                           |
| API key           | ``APIKEYS``        | ``<key id>``       | –                                           |
| audit entry       | ``AUDIT#<day>``    | ``<time>#<rand>``  | –                                           |
| push channel      | ``CHAN#<id>``      | ``CHANNEL``        | – (copy: ``CHANNELS`` / ``<expiry>#<id>``)  |

Trip items also carry GSI2PK / GSI2SK = ``TRIPS#<yyyy-mm of start>`` / ``<start>#<emp id>#<trip id>``
(every trip, cancelled ones too): GSI2 is "trips by start month".

- "trips of an employee": Query PK = EMP#id, SK begins_with TRIP# (``TRIPHIST#`` does not match: the
  character after ``TRIP`` is ``H``, not ``#``).
- "trips starting between two dates" (``GET /v1/trips``, the CSV export): Query GSI2 once per month
  partition from the first month to the last, GSI2SK BETWEEN the two dates. One partition per month
  spreads the load and keeps each query small; filters (status, country) are applied to what was read.
- "a trip by its id" (ids are opaque hashes): GetItem TRIPID#id / OWNER -> employee id, then the trip.
- "a trip's assessment history": Query PK = EMP#id, SK begins_with TRIPHIST#<trip id># (one item per
  stored version, written when the decision or the trip changed; decision fields only, no evidence).
- "HR's overrides of an employee's trips": Query PK = EMP#id, SK begins_with OVERRIDE#.
- "trips starting between two dates that still lack a certificate": Query GSI1 with GSI1PK = NOCERT and
  GSI1SK BETWEEN the two dates; the GSI attributes exist only while a certificate is missing, so the
  index holds exactly the open cases.
- "messages to (re)send": Query GSI1 with GSI1PK = OUTBOX and GSI1SK BETWEEN ``PENDING#`` and
  ``PENDING#<now>``; a delivered message leaves the index, a message that kept failing moves to
  ``FAILED#`` (listed in HR's digest).
- "sync state of a calendar": GetItem PK = SYNC#id, SK = STATE.
- "who is syncing this calendar": conditional PutItem PK = SYNC#id, SK = LEASE (``owner``,
  ``lease_until`` epoch seconds; taken when absent, run out or already ours; deleted by its owner).
- "must workers wait for this provider": GetItem PK = PROVIDER#graph (or google), SK = BACKOFF
  (``backoff_until`` epoch seconds, only ever extended).
- "events read from a calendar": Query PK = CONN#id, SK begins_with EVT# (normalised fields only).
- "which connection does this notification concern": GetItem PK = CHAN#id.
Every item carries ``expires_at`` (epoch seconds) for DynamoDB TTL; see retention.py.
"""

from __future__ import annotations

from typing import Any

GSI_OPEN_CASES = "GSI1"
GSI_TRIPS_BY_MONTH = "GSI2"
TRIPS_MONTH_PREFIX = "TRIPS#"
"""GSI2 partitions trips by the month they start in (``TRIPS#2027-03``), sorted by start date."""
TRIP_OWNER_PREFIX = "TRIPID#"
"""``TRIPID#<trip id>`` / ``OWNER`` names the employee a trip belongs to (trip ids are opaque hashes)."""
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
            {"AttributeName": "GSI2PK", "AttributeType": "S"},
            {"AttributeName": "GSI2SK", "AttributeType": "S"},
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
            },
            {
                "IndexName": GSI_TRIPS_BY_MONTH,
                "KeySchema": [
                    {"AttributeName": "GSI2PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI2SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    }
