"""What other apps hear from meetings (meetings imports no app above it).

``meeting_cancelled(meeting_id, agent_id)`` is sent inside the transaction that cancels the
meeting, so a receiver's writes (routing gives the agent their turn back) commit with it.
"""

from __future__ import annotations

from django.dispatch import Signal

meeting_cancelled = Signal()
