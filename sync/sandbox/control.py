"""/_sandbox/* — control from another process (demo, benchmarks). Never counted, never limited.

GET  /_sandbox/stats        the stats (SandboxStats as JSON)
GET  /_sandbox/counts       {"leads", "companies", "activities"}: the instance's current sizes
POST /_sandbox/faults       a JSON list of Fault fields: [{"code": "606", "at_call": 10}, ...]
POST /_sandbox/clear-faults disarm every scripted fault
POST /_sandbox/mutate       JSON keyword arguments of mutate(); answers the Changes
POST /_sandbox/reset-quota  what midnight US Central does
POST /_sandbox/reset-stats  start the stats afresh
POST /_sandbox/advance-clock  {"seconds": n}: move the sandbox clock forward
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from sync.sandbox.call import App
from sync.sandbox.config import Fault
from sync.sandbox.mutate import mutate

Answer = tuple[int, Any]


def _body(body: bytes) -> Any:
    return json.loads(body or b"null")


def handle(app: App, method: str, path: str, body: bytes) -> Answer:
    name = path.removeprefix("/_sandbox/").rstrip("/")
    try:
        if method == "GET" and name == "stats":
            return 200, dataclasses.asdict(app.gate.snapshot())
        if method == "GET" and name == "counts":
            with app.world.lock:
                return 200, {
                    "leads": app.world.leads.count(),
                    "companies": app.world.companies.count(),
                    "activities": app.world.stream.last_id,
                }
        if method != "POST":
            return 404, {"error": f"no control call {method} {path}"}
        if name == "faults":
            faults = _body(body)
            for fields in faults if isinstance(faults, list) else [faults]:
                app.gate.add_fault(Fault(**fields))
            return 200, {"added": len(faults) if isinstance(faults, list) else 1}
        if name == "clear-faults":
            app.gate.clear_faults()
            return 200, {"ok": True}
        if name == "mutate":
            changes = mutate(app.world, **(_body(body) or {}))
            answer = dataclasses.asdict(changes)
            answer["since"] = changes.since.isoformat()
            return 200, answer
        if name == "reset-quota":
            app.gate.reset_daily_quota()
            return 200, {"ok": True}
        if name == "reset-stats":
            app.gate.reset_stats()
            return 200, {"ok": True}
        if name == "advance-clock":
            app.clock.advance(float((_body(body) or {}).get("seconds", 0)))
            return 200, {"ok": True}
    except (TypeError, ValueError) as error:
        return 400, {"error": str(error)}
    return 404, {"error": f"no control call {method} {path}"}
