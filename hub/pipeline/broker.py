"""The Redis transport the hub's workers use: kombu's, with one bug fixed.

kombu 5.7 / Celery 5.7: when the broker goes away while a worker holds
unacknowledged messages (a running acks_late task, or one reserved and waiting
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

from kombu.transport import redis


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
