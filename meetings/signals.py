"""What other apps hear from meetings (meetings imports no app above it).

``meeting_cancelled(meeting_id, agent_id)`` is sent once the cancellation has committed (routing
gives the agent their turn back in its own transaction, under its own lock).
"""

from __future__ import annotations

from django.dispatch import Signal

meeting_cancelled = Signal()
