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

Skipping that second restore loses nothing: the messages are still in Redis's
unacked hash, and every consumer's `restore_visible` puts them back on their
queue once the visibility timeout (HUB_BROKER_VISIBILITY_TIMEOUT) has passed.
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
    def restore_unacked(self, client: object = None) -> None:
        if self.channel.connection.client is None:
            # The connection was collected after a broker loss: leave the
            # messages to the visibility timeout (see the module's docstring).
            return
        super().restore_unacked(client)


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
