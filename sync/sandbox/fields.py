"""The sandbox's lead and company schema, and the describe calls that publish it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Field:
    id: int
    name: str  # REST API name
    display: str
    data_type: str
    length: int | None = None
    read_only: bool = False
    custom: bool = False
    # Company-level fields are inherited from the lead's company and cannot be set on leads.
    company: bool = False


def _f(
    id: int, name: str, display: str, data_type: str, length: int | None = None, **flags: bool
) -> Field:
    return Field(id, name, display, data_type, length, **flags)


LEAD_FIELDS = (
    _f(1, "id", "Id", "integer", read_only=True),
    _f(2, "email", "Email Address", "email", 255),
    _f(3, "firstName", "First Name", "string", 255),
    _f(4, "middleName", "Middle Name", "string", 255),
    _f(5, "lastName", "Last Name", "string", 255),
    _f(6, "salutation", "Salutation", "string", 255),
    _f(7, "title", "Job Title", "string", 255),
    _f(8, "department", "Department", "string", 255),
    _f(9, "phone", "Phone Number", "phone", 255),
    _f(10, "mobilePhone", "Mobile Phone Number", "phone", 255),
    _f(11, "fax", "Fax Number", "phone", 255),
    _f(12, "company", "Company Name", "string", 255, company=True),
    _f(13, "website", "Website", "url", 255, company=True),
    _f(14, "industry", "Industry", "string", 255, company=True),
    _f(15, "numberOfEmployees", "Num Employees", "integer", company=True),
    _f(16, "annualRevenue", "Annual Revenue", "currency", company=True),
    _f(17, "sicCode", "SIC Code", "string", 40, company=True),
    _f(18, "mainPhone", "Main Phone", "phone", 255, company=True),
    _f(19, "billingCity", "Billing City", "string", 255, company=True),
    _f(20, "billingState", "Billing State", "string", 255, company=True),
    _f(21, "billingCountry", "Billing Country", "string", 255, company=True),
    _f(22, "address", "Address", "text"),
    _f(23, "city", "City", "string", 255),
    _f(24, "state", "State", "string", 255),
    _f(25, "country", "Country", "string", 255),
    _f(26, "postalCode", "Postal Code", "string", 255),
    _f(27, "leadScore", "Lead Score", "score"),
    _f(28, "leadStatus", "Lead Status", "string", 255),
    _f(29, "leadSource", "Lead Source", "string", 255),
    _f(30, "leadRole", "Lead Role", "string", 50),
    _f(31, "rating", "Lead Rating", "string", 255),
    _f(32, "doNotCall", "Do Not Call", "boolean"),
    _f(33, "doNotCallReason", "Do Not Call Reason", "string", 512),
    _f(34, "unsubscribed", "Unsubscribed", "boolean"),
    _f(35, "unsubscribedReason", "Unsubscribed Reason", "text"),
    _f(36, "emailInvalid", "Email Invalid", "boolean"),
    _f(37, "marketingSuspended", "Marketing Suspended", "boolean"),
    _f(38, "isAnonymous", "Anonymous", "boolean", read_only=True),
    _f(39, "cookies", "Cookies", "string", 255),
    _f(40, "externalCompanyId", "External Company Id", "string", 100),
    _f(41, "acquisitionProgramId", "Acquisition Program Id", "integer"),
    _f(42, "originalSourceType", "Original Source Type", "string", 255, read_only=True),
    _f(43, "personTimeZone", "Person Time Zone", "string", 255),
    _f(44, "createdAt", "Created At", "datetime", read_only=True),
    _f(45, "updatedAt", "Updated At", "datetime", read_only=True),
    _f(101, "productInterest", "Product Interest", "string", 255, custom=True),
    _f(102, "customerTier", "Customer Tier", "string", 255, custom=True),
    _f(103, "lastChatTopic", "Last Chat Topic", "string", 255, custom=True),
    _f(104, "preferredLanguage", "Preferred Language", "string", 255, custom=True),
    _f(105, "trialStartDate", "Trial Start Date", "date", custom=True),
    _f(106, "seatsRequested", "Seats Requested", "integer", custom=True),
    _f(107, "npsScore", "NPS Score", "integer", custom=True),
    _f(108, "marketingConsent", "Marketing Consent", "boolean", custom=True),
    _f(109, "chatEngaged", "Engaged in Chat", "boolean", custom=True),
    _f(110, "lastMeetingBookedAt", "Last Meeting Booked At", "datetime", custom=True),
)
LEAD_FIELD = {field.name: field for field in LEAD_FIELDS}
LEAD_NAMES = tuple(field.name for field in LEAD_FIELDS)
DEFAULT_LEAD_FIELDS = ("id", "email", "updatedAt", "createdAt", "firstName", "lastName")
# filterType values Get Leads by Filter answers (anything else: 1011).
LEAD_FILTERS = ("id", "email", "cookies", "externalCompanyId")
LEAD_SEARCHABLE = (("email",), ("id",), ("cookies",), ("externalCompanyId",))

COMPANY_FIELDS = (
    _f(1, "id", "Id", "integer", read_only=True),
    _f(2, "externalCompanyId", "External Company Id", "string", 100),
    _f(3, "company", "Company Name", "string", 255),
    _f(4, "website", "Website", "url", 255),
    _f(5, "industry", "Industry", "string", 255),
    _f(6, "sicCode", "SIC Code", "string", 40),
    _f(7, "numberOfEmployees", "Num Employees", "integer"),
    _f(8, "annualRevenue", "Annual Revenue", "currency"),
    _f(9, "mainPhone", "Main Phone", "phone", 255),
    _f(10, "billingStreet", "Billing Address", "text"),
    _f(11, "billingCity", "Billing City", "string", 255),
    _f(12, "billingState", "Billing State", "string", 255),
    _f(13, "billingPostalCode", "Billing Postal Code", "string", 255),
    _f(14, "billingCountry", "Billing Country", "string", 255),
    _f(15, "createdAt", "Created At", "datetime", read_only=True),
    _f(16, "updatedAt", "Updated At", "datetime", read_only=True),
)
COMPANY_FIELD = {field.name: field for field in COMPANY_FIELDS}
COMPANY_NAMES = tuple(field.name for field in COMPANY_FIELDS)
DEFAULT_COMPANY_FIELDS = ("id", "externalCompanyId", "createdAt", "updatedAt")
# Company values a lead shows, by the lead field's name.
INHERITED = tuple(field.name for field in LEAD_FIELDS if field.company)


def describe_leads() -> list[dict[str, Any]]:
    result = []
    for field in LEAD_FIELDS:
        item: dict[str, Any] = {
            "id": field.id,
            "displayName": field.display,
            "dataType": field.data_type,
        }
        if field.length:
            item["length"] = field.length
        item["rest"] = {"name": field.name, "readOnly": field.read_only}
        item["soap"] = {
            "name": field.name[:1].upper() + field.name[1:],
            "readOnly": field.read_only,
        }
        result.append(item)
    return result


def describe_leads2() -> list[dict[str, Any]]:
    fields = []
    for field in LEAD_FIELDS:
        item: dict[str, Any] = {
            "name": field.name,
            "displayName": field.display,
            "dataType": field.data_type,
        }
        if field.length:
            item["length"] = field.length
        item["updateable"] = not (field.read_only or field.company)
        item["crmManaged"] = False
        fields.append(item)
    return [
        {
            "name": "API Lead",
            "searchableFields": [list(f) for f in LEAD_SEARCHABLE],
            "fields": fields,
        }
    ]


def describe_companies() -> list[dict[str, Any]]:
    fields = []
    for field in COMPANY_FIELDS:
        item: dict[str, Any] = {
            "name": field.name,
            "displayName": field.display,
            "dataType": field.data_type,
        }
        if field.length:
            item["length"] = field.length
        item["updateable"] = not field.read_only
        fields.append(item)
    return [
        {
            "name": "Company",
            "description": "Company object",
            "createdAt": "2015-01-01T00:00:00Z",
            "updatedAt": "2015-01-01T00:00:00Z",
            "idField": "id",
            "dedupeFields": ["externalCompanyId"],
            "searchableFields": [["externalCompanyId"], ["id"], ["company"]],
            "fields": fields,
        }
    ]
