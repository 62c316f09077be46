"""On RabbitMQ too, a capture's first step waits behind the later steps of
captures in flight (issue 14; the Redis and filesystem brokers:
tests/hub/pipeline/test_broker_priority.py).

RabbitMQ takes the highest priority first, the reverse of kombu's Redis
transport, and only from a queue declared with x-max-priority; hub.settings
says both when CELERY_BROKER_URL is AMQP. The check runs in a fresh process
configured for the machine's RabbitMQ (127.0.0.1:5672, guest/guest, as
PEERS.md says it runs), with a queue prefix of its own, and sends the tasks
as the pipeline does: by their routes, to the queue Celery declares.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST, PORT = "127.0.0.1", int(os.environ.get("HUB_TEST_RABBITMQ_PORT", "5672"))
# AMQP 0-9-1's protocol header; a broker answers with a Connection.Start method frame.
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"

PROBE = """
import json
import django

django.setup()
from django.conf import settings

from hub.celery import app
from hub.pipeline.tasks import encapsulate_capture, inspect_capture

queue = app.amqp.queues[settings.HUB_QUEUE_CPU]
with app.connection_for_write() as connection:
    try:
        for capture_id in ("new-1", "new-2"):
            inspect_capture.apply_async([capture_id], connection=connection)
        encapsulate_capture.apply_async(["later"], connection=connection)
        simple = connection.SimpleQueue(queue)
        taken = [simple.get(timeout=10) for _ in range(3)]
        for message in taken:
            message.ack()
        simple.close()
    finally:
        queue(connection.default_channel).delete()
print(json.dumps({
    "arguments": queue.queue_arguments,
    "taken": [[m.headers["task"].rsplit(".", 1)[1], m.payload[0]] for m in taken],
}))
"""


def _rabbitmq_answers() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1) as sock:
            sock.sendall(AMQP_HEADER)
            return sock.recv(1) == b"\x01"
    except OSError:
        return False


@pytest.fixture
def rabbitmq_url() -> str:
    if not _rabbitmq_answers():
        why = f"RabbitMQ does not answer AMQP on {HOST}:{PORT}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{why}; CI tests it (`bash .ci/run` starts it)")
        pytest.skip(why)
    return f"amqp://guest:guest@{HOST}:{PORT}//"


@pytest.mark.integration
def test_on_rabbitmq_a_later_step_overtakes_first_steps_sent_before_it(rabbitmq_url: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "CELERY_BROKER_URL": rabbitmq_url,
        "HUB_QUEUE_PREFIX": f"test-rabbitmq-{uuid.uuid4().hex[:8]}",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])

    assert result["arguments"] == {"x-max-priority": 9}
    assert result["taken"] == [
        ["encapsulate_capture", ["later"]],
        ["inspect_capture", ["new-1"]],
        ["inspect_capture", ["new-2"]],
    ]
