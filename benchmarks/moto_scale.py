"""moto at the scale simulation's size: the same answers, without the cost that grows with the data.

moto 5.2 is written for tests with a handful of items and messages. Four of its code paths do work in
proportion to everything stored, on every call, which AWS does not do:

- DynamoDB ``Query`` on the table sorts every item of the table to find one partition's (0.1 s per
  query at 6,000 items; seconds at the simulation's 300,000);
- SQS recomputes a queue's three message counts (``ApproximateNumberOf...``) for every message sent
  and every message received (they are part of ``Queue.attributes``, which ``send_message`` and the
  retention check read), and the visible-message list for every receive, reading the clock twice per
  message in the queue;
- SQS ``DeleteMessage`` scans the queue twice for the receipt handle.

With 5,000 messages on the queue that is quadratic: most of the simulation's time would be moto's.
``moto_at_scale`` replaces those paths with equivalents that touch only what they need (one partition;
one clock reading per call; one pass), so the figures measure coverwatch. The simulation's pytest runs
under the same patches and checks the behaviour; the functional tests use moto as it is.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any


@contextmanager
def moto_at_scale() -> Iterator[None]:
    with ExitStack() as stack:
        stack.enter_context(_partition_local_queries())
        stack.enter_context(_cheap_queue_scans())
        yield


@contextmanager
def _partition_local_queries() -> Iterator[None]:
    """Hand moto's own query code only the partition's items (index queries are left as they are)."""
    from moto.dynamodb.models.table import Table

    original = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or hash_key is None:
            return original(self, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        items = list(partition.values())
        self.all_items = lambda: items  # what moto's query iterates and sorts
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    with _replaced(Table, "query", query):
        yield


def _now_ms() -> float:
    return time.time() * 1000.0  # what moto's unix_time_millis() returns, without building datetimes


@contextmanager
def _cheap_queue_scans() -> Iterator[None]:
    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Queue, SQSBackend

    def counts(queue: Any) -> tuple[int, int, int]:
        """(ready, not visible, delayed) in one pass, with one clock reading."""
        now = _now_ms()
        ready = hidden = delayed = 0
        for message in queue._messages:
            visible, late = now > message.visible_at, now < message.delayed_until
            ready += visible and not late
            hidden += not visible
            delayed += late
        return ready, hidden, delayed

    def messages(queue: Any) -> list[Any]:
        now = _now_ms()
        return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]

    def retention_ok(backend: Any, queue_name: str, message: Any) -> bool:
        period = backend.get_queue(queue_name).message_retention_period
        return bool(period + message.sent_timestamp / 1000 > time.time())

    def delete_message(queue: Any, receipt_handle: str) -> None:
        if receipt_handle in queue.deleted_messages:
            return
        for index, message in enumerate(queue._messages):
            if message.had_receipt_handle(receipt_handle):
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)
                del queue._messages[index]
                return
        raise ReceiptHandleIsInvalid()

    attributes = Queue.__dict__["attributes"].fget

    counted = threading.local()  # per thread: the fan-out sends from several at once

    def all_attributes(queue: Any) -> Any:
        counted.now = (queue, counts(queue))  # the three counts below read it: one pass per call
        try:
            return attributes(queue)
        finally:
            counted.now = None

    def count(which: int) -> property:
        def get(queue: Any) -> int:
            now = getattr(counted, "now", None)
            return (now[1] if now and now[0] is queue else counts(queue))[which]

        return property(get)

    with ExitStack() as stack:
        for name, replacement in (
            ("attributes", property(all_attributes)),
            ("approximate_number_of_messages", count(0)),
            ("approximate_number_of_messages_not_visible", count(1)),
            ("approximate_number_of_messages_delayed", count(2)),
            ("messages", property(messages)),
            ("delete_message", delete_message),
        ):
            stack.enter_context(_replaced(Queue, name, replacement))
        stack.enter_context(_replaced(SQSBackend, "is_message_valid_based_on_retention_period", retention_ok))
        yield


@contextmanager
def _replaced(owner: type, name: str, replacement: Any) -> Iterator[None]:
    original = owner.__dict__[name]
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
