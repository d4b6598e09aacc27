"""Changes made inside the instance (people editing leads, campaigns running), on request."""

from __future__ import annotations

import random
from math import floor

from sync.sandbox import names
from sync.sandbox.activity_gen import CHANGE_FIELDS, TYPE_TABLE, change_values
from sync.sandbox.clock import to_datetime
from sync.sandbox.config import Changes
from sync.sandbox.generate import mix
from sync.sandbox.world import World

REASON = "Changed by a person in Marketo"


def mutate(
    world: World,
    *,
    updated_leads: int = 0,
    new_leads: int = 0,
    new_activities: int = 0,
    updated_companies: int = 0,
) -> Changes:
    """Change the instance; every change is stamped at or after ``Changes.since``."""
    if min(updated_leads, new_leads, new_activities, updated_companies) < 0:
        raise ValueError("mutate counts cannot be negative")
    with world.lock:
        world.mutations += 1
        rng = random.Random(f"mutate-{world.dataset.seed}-{world.mutations}")  # noqa: S311
        now = world.now()
        changes = Changes(since=to_datetime(floor(now)))
        lead_total = world.leads.count()
        if updated_leads > lead_total:
            raise ValueError(f"cannot update {updated_leads} of {lead_total} leads")
        ids = sorted(
            rng.sample(range(1, world.leads.base + 1), min(updated_leads, world.leads.base))
        )
        ids += sorted(rng.sample(list(world.leads.added), updated_leads - len(ids)))
        for lead_id in ids:
            field = rng.choice(CHANGE_FIELDS)
            current = world.leads.value(lead_id, field)
            value = rng.choice([v for v in change_values(field) if v != current])
            done = world.leads.update(lead_id, {field: value}, now)
            written = world.record_changes(lead_id, done, now, REASON)
            changes.new_activity_guids += [str(a.id) for a in written]
            changes.updated_lead_ids.append(lead_id)
        for _ in range(new_leads):
            values = world.people.base(world.leads.next_id, created=int(now))
            for key in ("id", "createdAt", "updatedAt"):
                values.pop(key)
            lead_id = world.leads.create(values, now)
            changes.new_activity_guids.append(
                str(world.record_new_lead(lead_id, now, "New lead").id)
            )
            changes.new_lead_ids.append(lead_id)
        lead_count = world.leads.count()
        for _ in range(new_activities):
            type_id = TYPE_TABLE[rng.randrange(256)]
            if type_id in (12, 13):
                type_id = 1
            variant = world.stream.generator.pools[type_id][rng.randrange(256)]
            activity = world.record(
                rng.randrange(1, lead_count + 1),
                type_id,
                now,
                campaign_id=variant.campaign_id,
                value_id=variant.value_id,
                value=variant.value,
                attributes=variant.attributes,
            )
            changes.new_activity_guids.append(str(activity.id))
        company_total = world.companies.count()
        if updated_companies > company_total:
            raise ValueError(f"cannot update {updated_companies} of {company_total} companies")
        for company_id in sorted(rng.sample(range(1, company_total + 1), updated_companies)):
            company = world.companies.get(company_id) or {}
            employees = int(company.get("numberOfEmployees") or 10)
            grown = max(1, employees + rng.choice((-1, 1)) * (1 + employees // 10))
            industry = names.INDUSTRIES[mix(company_id + world.mutations) % len(names.INDUSTRIES)]
            world.companies.update(
                company_id,
                {
                    "numberOfEmployees": grown,
                    "annualRevenue": float(grown * 150_000),
                    "industry": industry[0],
                    "sicCode": industry[1],
                },
                now,
            )
            changes.updated_company_ids.append(company_id)
        return changes
