"""Kombu's Redis transport, changed so that a worker that dies loses no message.

Two changes, both about a worker process that dies (kill -9, out of memory, a lost machine):

* **Taking a message is atomic.** Kombu takes a message with BRPOP, which removes it from the
  queue, and records it as unacknowledged in a second step; a worker killed in between, or while
  the reply waits unread in its socket, loses the message for good. Here one Lua script pops the
  message and records it as unacknowledged together, so a dead worker's messages are always
  found again by the visibility-timeout sweep. While the queue is empty the worker waits with
  ``BLMOVE queue queue RIGHT RIGHT``, which returns the head without removing it.
* **A rejected message goes back to the head.** Kombu requeues at the tail, where AMQP brokers
  put it back in place; a task whose worker process died mid-task (``task_reject_on_worker_lost``)
  would otherwise wait behind the whole backlog before it runs again (kombu issue #1742).

Selected by ``CELERY_BROKER_TRANSPORT = "dynchat.broker:Transport"`` with a ``redis://`` URL;
needs Redis 6.2 or later. This module imports no Django models: kombu loads it before Django is
set up in some commands (``celery inspect``).
"""

from __future__ import annotations

from time import monotonic, time
from typing import TYPE_CHECKING, Any

from kombu.transport import redis, virtual

# KEYS: the unacked hash, the unacked index, then the queue's lists in priority order.
# ARGV[1]: the time now, the message's score in the unacked index.
TAKE_MESSAGE = """
for i = 3, #KEYS do
    local item = redis.call('LINDEX', KEYS[i], -1)
    if item then
        local ok, message = pcall(cjson.decode, item)
        local properties = ok and type(message) == 'table' and message['properties']
        redis.call('RPOP', KEYS[i])
        if type(properties) == 'table' and properties['delivery_tag'] then
            local info = properties['delivery_info'] or {}
            local entry = '[' .. item .. ',' .. cjson.encode(info['exchange'] or '') .. ','
                .. cjson.encode(info['routing_key'] or '') .. ']'
            redis.call('HSET', KEYS[1], properties['delivery_tag'], entry)
            redis.call('ZADD', KEYS[2], ARGV[1], properties['delivery_tag'])
        end
        return {KEYS[i], item}
    end
end
return false
"""


class QoS(redis.QoS):
    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        if not requeue:
            super().reject(delivery_tag, requeue=False)
            return
        # Publishers LPUSH and consumers take from the right, so the head is the right end.
        self.restore_by_tag(delivery_tag, leftmost=False)
        virtual.QoS.ack(self, delivery_tag)


class Channel(redis.Channel):
    QoS = QoS
    # After a take found every queue empty, the next command waits for a message to arrive.
    waiting = False

    if TYPE_CHECKING:  # kombu internals this class works with, untyped in kombu's stubs
        _queue_cycle: Any
        _in_poll: Any
        _brpop_sent_at: float
        connection_errors: tuple[type[BaseException], ...]

        def _q_for_pri(self, queue: str, pri: int) -> str: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.global_keyprefix:
            raise ValueError("dynchat.broker.Transport does not support global_keyprefix")

    def _brpop_start(self, timeout: float | None = None) -> None:
        queues = self._queue_cycle.consume(len(self.active_queues))
        if not queues:
            return
        connection = self.client.connection
        self._in_poll = connection
        self._brpop_sent_at = monotonic()
        if self.waiting:
            # Returns the first queue's head, leaving it there, or nothing after the timeout;
            # messages of the other queues are taken at the latest then.
            wait = self.brpop_timeout if timeout is None else timeout
            connection.send_command("BLMOVE", queues[0], queues[0], "RIGHT", "RIGHT", wait or 0)
        else:
            keys = [self._q_for_pri(queue, pri) for pri in self.priority_steps for queue in queues]
            connection.send_command(
                "EVAL",
                TAKE_MESSAGE,
                2 + len(keys),
                self.unacked_key,
                self.unacked_index_key,
                *keys,
                time(),
            )

    def _brpop_read(self, **options: Any) -> bool:
        if not self.waiting:
            try:
                return bool(super()._brpop_read(**options))  # type: ignore[misc]
            except virtual.Empty:
                self.waiting = True
                raise
        try:
            self.client.parse_response(self.client.connection, "BLMOVE", **options)
        except self.connection_errors:
            self.client.connection.disconnect()
            raise
        finally:
            self._in_poll = None
        self.waiting = False
        raise virtual.Empty()


class Transport(redis.Transport):
    Channel = Channel
