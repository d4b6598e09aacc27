"""Marketo's standard activity types (ids from the reference's §9) as types.json shows them."""

from __future__ import annotations

from typing import Any

# id -> (name, description, (primary attribute name, data type) or None, [(attribute, type)])
STANDARD_TYPES: dict[int, tuple[str, str, tuple[str, str] | None, list[tuple[str, str]]]] = {
    1: ("Visit Webpage", "User visits a web page", ("Webpage ID", "integer"),
        [("Client IP Address", "string"), ("Query Parameters", "string"),
         ("Referrer URL", "string"), ("User Agent", "string"), ("Webpage URL", "string")]),
    2: ("Fill Out Form", "User fills out and submits form on web page", ("Webform ID", "integer"),
        [("Client IP Address", "string"), ("Form Fields", "text"), ("Query Parameters", "string"),
         ("Referrer URL", "string"), ("User Agent", "string"), ("Webpage ID", "integer")]),
    3: ("Click Link", "User clicks link on a page", ("Link ID", "integer"),
        [("Client IP Address", "string"), ("Link URL", "string"), ("User Agent", "string")]),
    6: ("Send Email", "Send Marketo Email to a person", ("Mailing ID", "integer"),
        [("Campaign Run ID", "integer"), ("Step ID", "integer"), ("Choice Number", "integer")]),
    7: ("Email Delivered", "Marketo Email is delivered to a person", ("Mailing ID", "integer"),
        [("Campaign Run ID", "integer"), ("Step ID", "integer"), ("Choice Number", "integer")]),
    8: ("Email Bounced", "Marketo Email bounces", ("Mailing ID", "integer"),
        [("Category", "string"), ("Details", "string"), ("Email", "string")]),
    9: ("Unsubscribe Email", "Person unsubscribes from Marketo Emails", ("Mailing ID", "integer"),
        [("Client IP Address", "string"), ("Form Fields", "text"), ("User Agent", "string")]),
    10: ("Open Email", "User opens Marketo Email", ("Mailing ID", "integer"),
         [("Device", "string"), ("Is Mobile Device", "boolean"), ("Platform", "string"),
          ("User Agent", "string")]),
    11: ("Click Email", "User clicks on a link in a Marketo Email", ("Mailing ID", "integer"),
         [("Device", "string"), ("Is Mobile Device", "boolean"), ("Link", "string"),
          ("Platform", "string"), ("User Agent", "string")]),
    12: ("New Lead", "New person", None,
         [("Source Type", "string"), ("Form Name", "string"), ("Lead Source", "string"),
          ("List Name", "string"), ("SFDC Type", "string"), ("Created Date", "date")]),
    13: ("Change Data Value", "Changed attribute value for a person", ("Attribute Name",
         "integer"), [("New Value", "string"), ("Old Value", "string"), ("Reason", "string"),
                      ("Source", "string")]),
    19: ("Sync Lead to SFDC", "Person is synced to Salesforce", None, []),
    21: ("Convert Lead", "Person is converted", None, [("Converted Status", "string")]),
    22: ("Change Score", "Changed score value for a person", ("Scoring ID", "integer"),
         [("Change Value", "string"), ("Old Value", "integer"), ("New Value", "integer"),
          ("Reason", "string")]),
    23: ("Change Owner", "Owner of a person changes", None, [("New Owner", "string")]),
    24: ("Add to List", "Person is added to a list", ("List ID", "integer"), []),
    25: ("Remove from List", "Person is removed from a list", ("List ID", "integer"), []),
    32: ("Merge Leads", "Persons are merged", None, [("Merged Ids", "string")]),
    37: ("Delete Lead", "Person is deleted", None, []),
    46: ("Interesting Moment", "Interesting moment for a person", ("Milestone ID", "integer"),
         [("Description", "text"), ("Source", "string"), ("Type", "string")]),
    47: ("Request Campaign", "Campaign is requested for a person", ("Campaign ID", "integer"),
         [("Source", "string")]),
    104: ("Change Status in Progression", "Change a status in a program progression",
          ("Program ID", "integer"),
          [("Old Status", "string"), ("New Status", "string"), ("New Status ID", "integer"),
           ("Success", "boolean"), ("Acquired By", "boolean"), ("Program Member ID", "integer")]),
    110: ("Call Webhook", "Webhook is called", ("Webhook ID", "integer"),
          [("Response", "text"), ("Error Type", "string")]),
    113: ("Add to Nurture", "Person is added to a nurture program", ("Program ID", "integer"),
          [("Track ID", "integer")]),
    123: ("Change Program Member Data", "Program member data changes", ("Program ID", "integer"),
          [("Attribute Name", "string"), ("New Value", "string"), ("Old Value", "string")]),
    145: ("Push Lead to Marketo", "Person is pushed to Marketo", None,
          [("Reason", "string"), ("Source", "string")]),
}  # fmt: skip


def describe_type(type_id: int) -> dict[str, Any]:
    name, description, primary, attributes = STANDARD_TYPES[type_id]
    item: dict[str, Any] = {"id": type_id, "name": name, "description": description}
    if primary:
        item["primaryAttribute"] = {"name": primary[0], "dataType": primary[1]}
    item["attributes"] = [{"name": a, "dataType": t} for a, t in attributes]
    return item
