"""Dynchat's share of Marketo's limits, counted in Redis across every process (web and workers).

Marketo allows 100 calls per sliding 20 s and 10 concurrent calls per instance, shared by every
integration, and a daily quota that ends at midnight US Central. ``RedisLimiter.slot()`` admits a
call when fewer than ``calls`` started in the last ``window`` seconds and fewer than
``concurrency`` are in flight. All decisions happen in one Lua script on Redis's own clock, so
workers on different hosts agree without synchronised clocks, and a crashed holder's slot frees
itself after ``lease`` seconds.
"""

from __future__ import annotations

import random
import time
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from types import TracebackType

import redis
from django.conf import settings
from django.core.cache import cache

from sync.errors import DailyQuotaReached

DAILY_QUOTA = "607"
# While a slot is taken, look again this often (seconds); a window wait sleeps until it ends
# but never longer than MAX_NAP, so a daily-quota block set meanwhile is noticed soon.
BUSY_POLL = 0.02
MAX_NAP = 0.5
# After a 606 the budget drops to this share of the calls in the window, for COOLDOWN seconds.
BACK_OFF_SHARE = 0.8
COOLDOWN = 300.0

# KEYS: starts (zset id→start), leases (zset id→expiry), cap, daily-quota block.
# ARGV: calls, window, concurrency, lease, id.
# Returns {"ok", now} | {"blocked", until} | {"busy", 0} | {"wait", seconds}.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local blocked = tonumber(redis.call('GET', KEYS[4]) or '0')
if blocked > now then return {'blocked', tostring(blocked)} end
local calls = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local lease = tonumber(ARGV[4])
local cap = tonumber(redis.call('GET', KEYS[3]) or ARGV[1])
if cap < calls then calls = cap end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {'busy', '0'} end
local started = redis.call('ZCARD', KEYS[1])
if started >= calls then
  local leaving = redis.call('ZRANGE', KEYS[1], started - calls, started - calls, 'WITHSCORES')
  return {'wait', tostring(tonumber(leaving[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('ZADD', KEYS[2], now + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
redis.call('PEXPIRE', KEYS[2], math.ceil(lease * 1000) + 1000)
return {'ok', tostring(now)}
"""

# KEYS: leases. ARGV: lease, id.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
return 1
"""

# KEYS: starts, cap. ARGV: calls, window, floor, share, cooldown.
_BACK_OFF = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local current = tonumber(redis.call('GET', KEYS[2]) or ARGV[1])
-- A burst of 606s is one signal: lower the budget at most once per window.
if redis.call('PTTL', KEYS[2]) > (tonumber(ARGV[5]) - tonumber(ARGV[2])) * 1000 then
  return current
end
local started = redis.call('ZCARD', KEYS[1])
local cap = math.floor(math.min(current, started) * tonumber(ARGV[4]))
cap = math.max(tonumber(ARGV[3]), cap)
redis.call('SET', KEYS[2], cap, 'PX', math.ceil(tonumber(ARGV[5]) * 1000))
return cap
"""


class Slot(AbstractContextManager[None]):
    """One admitted call: ``with limiter.slot():`` around the HTTP request."""

    def __init__(self, limiter: RedisLimiter) -> None:
        self._limiter = limiter
        self._id = ""

    def __enter__(self) -> None:
        self._id = uuid.uuid4().hex
        self._limiter._acquire(self._id)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._limiter._release(self._id)

    def renew(self) -> None:
        """Extend the lease of a call that legitimately runs long (a large download)."""
        self._limiter._renew(self._id)


class RedisLimiter:
    def __init__(
        self,
        redis_url: str,
        *,
        key: str = "marketo",
        calls: int = 80,
        window: float = 20.0,
        concurrency: int = 8,
        lease: float = 150.0,
    ) -> None:
        if calls < 1 or concurrency < 1 or window <= 0 or lease <= 0:
            raise ValueError("calls and concurrency must be ≥ 1, window and lease > 0")
        self.key = key
        self.calls = calls
        self.window = window
        self.concurrency = concurrency
        self.lease = lease
        self._redis = redis.Redis.from_url(redis_url, **settings.REDIS_OPTIONS)
        self._acquire_script = self._redis.register_script(_ACQUIRE)
        self._renew_script = self._redis.register_script(_RENEW)
        self._back_off_script = self._redis.register_script(_BACK_OFF)
        self._starts = f"{key}:starts"
        self._leases = f"{key}:leases"
        self._cap = f"{key}:cap"

    def slot(self) -> Slot:
        """Block until a call may start; raise DailyQuotaReached while calls are blocked."""
        return Slot(self)

    def block_until(self, when: datetime, reason_code: str = DAILY_QUOTA) -> None:
        """Make every process refuse calls until ``when``.

        A 607 block stops all calls (``slot()`` raises DailyQuotaReached); a block under another
        code (1029, export quota) is only recorded for ``blocked_until(code)`` to report.
        """
        until = when.timestamp()
        self._redis.set(self._block_key(reason_code), repr(until), pxat=int(until * 1000) + 1)

    def blocked_until(self, reason_code: str = DAILY_QUOTA) -> datetime | None:
        value = self._redis.get(self._block_key(reason_code))
        if value is None or float(value) <= time.time():
            return None
        return datetime.fromtimestamp(float(value), UTC)

    def clear_block(self, reason_code: str | None = None) -> None:
        """Lift the block under ``reason_code``, or every block (a new Marketo day)."""
        if reason_code is not None:
            self._redis.delete(self._block_key(reason_code))
        elif blocks := list(self._redis.scan_iter(match=self._block_key("*"))):
            self._redis.delete(*blocks)

    def back_off(self) -> int:
        """Marketo answered 606: shrink the shared budget for a while; return the new budget.

        Other integrations use the same instance-wide window, so our fixed share may be too
        much: every process drops to 80 % of the calls now in the window for COOLDOWN seconds
        (never below a quarter of ``calls``, and at most once per window), then goes back to
        the full share.
        """
        floor = max(1, self.calls // 4)
        cap = self._back_off_script(
            keys=[self._starts, self._cap],
            args=[self.calls, self.window, floor, BACK_OFF_SHARE, COOLDOWN],
        )
        return int(cap)

    def reset(self) -> None:
        """Forget every call, lease, budget change and block (tests)."""
        self.clear_block()
        self._redis.delete(self._starts, self._leases, self._cap)

    def _block_key(self, reason_code: str) -> str:
        return f"{self.key}:block:{reason_code}"

    def _acquire(self, slot_id: str) -> None:
        keys = [self._starts, self._leases, self._cap, self._block_key(DAILY_QUOTA)]
        args: list[str | int | float] = [
            self.calls,
            self.window,
            self.concurrency,
            self.lease,
            slot_id,
        ]
        while True:
            state, value = self._acquire_script(keys=keys, args=args)
            if state == b"ok":
                return
            if state == b"blocked":
                resume_at = datetime.fromtimestamp(float(value), UTC)
                raise DailyQuotaReached(DAILY_QUOTA, "Daily quota reached", resume_at)
            nap = BUSY_POLL if state == b"busy" else min(float(value), MAX_NAP)
            # A little jitter keeps waiting processes from all asking at the same instant.
            time.sleep(nap + random.uniform(0, BUSY_POLL))  # noqa: S311 - not cryptographic

    def _release(self, slot_id: str) -> None:
        self._redis.zrem(self._leases, slot_id)

    def _renew(self, slot_id: str) -> None:
        self._renew_script(keys=[self._leases], args=[self.lease, slot_id])


def default_limiter() -> RedisLimiter:
    """The limiter every Dynchat process shares, sized from settings."""
    return RedisLimiter(
        settings.REDIS_URL,
        # The cache's key prefix keeps deployments (and test runs) sharing a Redis apart.
        key=cache.make_key("marketo"),
        calls=settings.MARKETO_MAX_CALLS_PER_20S,
        # Marketo counts a call when it arrives, we when it starts: counting over 21 s keeps any
        # 20 s of arrivals within the share even when a call takes up to a second to get there.
        window=21.0,
        concurrency=settings.MARKETO_MAX_CONCURRENT,
        # A call may take the whole timeout; its slot must not be handed on before that.
        lease=settings.MARKETO_TIMEOUT_SECONDS + 30.0,
    )
