"""What other apps hear from calendars (routing keeps its queue by these; calendars imports no one).

``calendar_connected(agent_id, reconnected)`` after a connection is saved (reconnected: an earlier
connection of the agent had been lost); ``calendar_lost(agent_id, reason)`` when a connection is
revoked, fails for good or is disconnected. Both are sent once the transaction commits.
"""

from __future__ import annotations

from django.dispatch import Signal

calendar_connected = Signal()
calendar_lost = Signal()
