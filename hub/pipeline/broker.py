"""The broker transports the hub uses: kombu's Redis one with a bug fixed, and
kombu's filesystem one (the embedded default) honouring message priorities.

The Redis transport. kombu 5.7 / Celery 5.7: when the broker goes away while
a worker holds unacknowledged messages (a running acks_late task, or one reserved and waiting
for a pool slot), the consumer calls `connection.collect()`, which clears the
transport's `client`, and then `connection.close()`, which closes the channel a
second time. That close restores the unacknowledged messages through a client
built from `transport.client.hostname` - None by then - and the AttributeError
is not a connection error, so it ends the worker ("Unrecoverable error:
AttributeError: 'NoneType' object has no attribute 'hostname'", exit 1).

The same cleared client ends the worker a second way: a task that finished
while the broker was away is acknowledged after the reconnection, on its old
channel (seen in bench/chaos.py: a Redis restart 6 s long). `QoS.ack` and
`QoS.reject` leave such a message in Redis, as the restore does.

Skipping that second restore, and those acknowledgements, loses nothing:
the messages are still in Redis's unacked hash, and every consumer's
`restore_visible` puts them back on their queue once the visibility timeout
(HUB_BROKER_VISIBILITY_TIMEOUT) has passed.
Besides, the database, not the broker, says what work is left: the resume
sweep re-enqueues it, and a step run twice does nothing (it claims first).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from time import monotonic_ns

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class QoS(redis.QoS):
    def _collected(self) -> bool:
        # A closed channel has let go of its connection too.
        connection = self.channel.connection
        return connection is None or connection.client is None

    def restore_unacked(self, client: object = None) -> None:
        if self._collected():
            # The connection was collected after a broker loss: leave the
            # messages to the visibility timeout (see the module's docstring).
            return
        super().restore_unacked(client)

    def ack(self, delivery_tag: str) -> None:
        if self._collected():
            # A task that finished while the broker was away is acknowledged
            # once the worker has reconnected, on the channel it came from, now
            # collected: its Redis client would be built from the cleared
            # transport client ("'NoneType' object has no attribute 'client'",
            # an Unrecoverable error that ends the worker). The message stays
            # in the unacked hash until the visibility timeout restores it; run
            # again, its step finds its work claimed or done.
            super(redis.QoS, self).ack(delivery_tag)  # forgotten here only
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if self._collected():
            super(redis.QoS, self).ack(delivery_tag)  # as `ack` above
            return
        super().reject(delivery_tag, requeue)


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel


class FilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel, with message priorities honoured as Redis does.

    kombu's own names each message file `<ms>_<uuid>.<queue>.msg` and takes the
    first by name, so it ignores a message's priority. Here the name begins
    with the priority (0 to 9): the sort that picks the next file then takes
    priority 0 first, as the Redis transport pops its priority lists (0 first),
    and first in, first out within one priority (nanoseconds, where kombu's
    milliseconds leave two messages of one millisecond in the uuid's order). The rest of the name is
    kombu's, so its `_get`, `_size` and `_purge` read these files unchanged.
    """

    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        priority = self._get_message_priority(payload, reverse=False)
        name = f"{priority}_{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        folder = Path(self.data_folder_out)
        path = folder / name
        # Written under another name and renamed: a consumer never takes a half-written file.
        partial = folder / f".{name}.part"
        try:
            partial.write_bytes(str_to_bytes(dumps(payload)))
            partial.replace(path)
        except OSError as error:
            raise ChannelError(f"Cannot add file {str(path)!r} to directory") from error


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
