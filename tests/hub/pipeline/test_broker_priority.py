"""A capture's first step waits behind later steps: message priorities on both brokers."""

from __future__ import annotations

import uuid
from pathlib import Path

from celery import current_app
from kombu import Connection, Exchange, Queue

from hub.pipeline.tasks import encapsulate_capture, inspect_capture


def _connection(folder: Path) -> Connection:
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://",
        transport="hub.pipeline.broker:FilesystemTransport",
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


def test_a_later_message_of_priority_0_is_taken_before_earlier_ones_of_priority_9(
    tmp_path: Path,
) -> None:
    queue = Queue("hub.cpu", Exchange("hub.cpu", type="direct"), routing_key="hub.cpu")
    with _connection(tmp_path) as connection:
        producer = connection.Producer()
        for body, priority in (("new-1", 9), ("new-2", 9), ("later-1", 0), ("later-2", 0)):
            producer.publish(
                body,
                exchange=queue.exchange,
                routing_key="hub.cpu",
                declare=[queue],
                priority=priority,
            )
        simple = connection.SimpleQueue(queue)
        messages = [simple.get(timeout=1) for _ in range(4)]
        for message in messages:
            message.ack()
        simple.close()
    taken = [message.payload for message in messages]

    assert taken == ["later-1", "later-2", "new-1", "new-2"]


def test_on_the_configured_broker_a_later_step_overtakes_first_steps_sent_before_it() -> None:
    # A queue of the test's own (the routes' priorities still apply), so that a
    # worker of the same run cannot take the messages.
    name = f"test-priority-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    with current_app.connection_for_write() as connection:
        queue(connection.default_channel).declare()
        for capture_id in ("new-1", "new-2"):
            inspect_capture.apply_async([capture_id], queue=name, connection=connection)
        encapsulate_capture.apply_async(["later"], queue=name, connection=connection)
        simple = connection.SimpleQueue(queue)
        try:
            taken = [simple.get(timeout=5) for _ in range(3)]
            for message in taken:
                message.ack()
        finally:
            queue(connection.default_channel).delete()
            simple.close()

    assert [message.headers["task"].rsplit(".", 1)[1] for message in taken] == [
        "encapsulate_capture",
        "inspect_capture",
        "inspect_capture",
    ]
    assert [message.payload[0] for message in taken][1:] == [["new-1"], ["new-2"]]
