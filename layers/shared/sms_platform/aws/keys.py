"""Every item the platform keeps in DynamoDB: its table, its key prefixes, the one store module
that reads and writes it, and what it is.

The tables are shared by several aggregates (the control table holds templates, accounts,
trigger rules, the 12333 question bank ...), told apart by the prefix of their partition key.
This catalogue is where a newcomer finds which module owns which items, and where a new item
type claims its prefix: ``tests/unit/aws/test_keys.py`` fails on a key prefix written anywhere
in the layer that is not listed here, and on an entry whose store no longer writes it.

Message source ids (``send#<request>``, ``evt#<event>#<rule>`` ...) are not keys of their own:
they name where a message came from, inside the messages' ``src#`` index and the audit trail;
``SOURCE_IDS`` lists their prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemType:
    table: str  # the settings name of its table, e.g. "CONTROL_TABLE"
    pk: str  # partition key prefix, up to the first variable part
    store: str  # the module (under sms_platform) that alone touches it
    what: str
    sk: tuple[str, ...] = ()  # sort key prefixes, where items under one pk differ by kind
    indexes: tuple[str, ...] = ()  # prefixes of its gsi partition keys


CONTROL, CONTACTS, SENDS, MESSAGES = "CONTROL_TABLE", "CONTACTS_TABLE", "SENDS_TABLE", "MESSAGES_TABLE"
SUBSCRIPTIONS, AUDIT, LIMITS = "SUBSCRIPTIONS_TABLE", "AUDIT_TABLE", "LIMITS_TABLE"

# One line per item, so the catalogue reads as a table.
# fmt: off
ITEMS: tuple[ItemType, ...] = (
    # -- CONTROL_TABLE: configuration and staff
    ItemType(CONTROL, "template#", "templates.store", "a template: sk meta (its head) and v#NNNN (each version)",
             sk=("v#",), indexes=("templates#",)),
    ItemType(CONTROL, "account#", "staff.account_store", "a staff account (sk account) and its sessions",
             sk=("session#",)),
    ItemType(CONTROL, "staff_number#", "staff.account_store", "the claim of a staff number by one account"),
    ItemType(CONTROL, "office#", "staff.account_store", "an office's suspension (sk suspension)"),
    ItemType(CONTROL, "rule#", "sources.trigger_rule_store", "a trigger rule, one item per version (sk v#NNNNN)",
             sk=("v#",), indexes=("rules#",)),
    ItemType(CONTROL, "apikey#", "sources.trigger_rule_store", "event types granted to a business system's key",
             sk=("grant#",)),
    ItemType(CONTROL, "apikey#", "contacts.channels", "address-book sources granted to a channel's key",
             sk=("source#",)),
    ItemType(CONTROL, "faq#", "sources.hotline", "a 12333 question-bank entry (sk entry)"),
    ItemType(CONTROL, "callerkey#", "sources.caller_keys", "an API key's kind (live, test) and callback URL (sk key)"),
    ItemType(CONTROL, "subitem#", "sources.subscription_store", "a subscription item on sale (sk item)"),
    ItemType(CONTROL, "remwatch#", "sources.reminder_store", "a done-event type reminder waves watch (sk watch)"),
    # -- CONTACTS_TABLE: the address book and what citizens said
    ItemType(CONTACTS, "c#", "contacts.record_items", "a contact record (sk record) and its index members",
             sk=("m#",), indexes=("ph#", "chk#", "byname#")),
    ItemType(CONTACTS, "aud#", "contacts.records", "the audience index of a district, kind and dimension (gsi)"),
    ItemType(CONTACTS, "cnt#", "contacts.repository", "audience counts by district shard"),
    ItemType(CONTACTS, "import#", "contacts.imports", "a contact import and its chunks", sk=("chunk#",)),
    ItemType(CONTACTS, "alist#", "contacts.lists", "an uploaded audience list (sk meta)"),
    ItemType(CONTACTS, "optout#", "sending.optouts", "a number's opt-out state and its history", sk=("event#",)),
    ItemType(CONTACTS, "inbox#", "sending.inbox", "citizens' replies of one Beijing month"),
    ItemType(CONTACTS, "nh#", "sending.number_health", "a number's health (sk state: held for verification, "
             "blocked), its permanent failures and its blocks", sk=("fail#", "block#")),
    # -- SENDS_TABLE: send requests, 12333 calls, statistics
    ItemType(SENDS, "send#", "sources.send_request_store", "a send request (sk request)"),
    ItemType(SENDS, "send#", "sources.fanout", "a send request's fan-out chunks", sk=("chunk#",)),
    ItemType(SENDS, "followup#", "sources.follow_up_store", "a follow-up send's recipients, a page of "
             "address-book references an item", sk=("r#",)),
    ItemType(SENDS, "vsheet#", "sources.value_sheet_store", "a personalised list (sk meta) and its encrypted rows",
             sk=("rows#",), indexes=("vsheets#",)),
    ItemType(SENDS, "remdone#", "sources.reminder_store", "when a subject's done-event of a type last arrived "
             "(sk done), for reminder waves"),
    ItemType(SENDS, "testphone#", "sources.send_request_store", "an account's verified phone for test sends",
             sk=("day#",)),
    ItemType(SENDS, "call#", "sources.hotline", "a 12333 hang-up call (sk call)", indexes=("calls#",)),
    ItemType(SENDS, "evstatus#", "sources.caller_events", "a business event as its sender may ask about it "
             "(sk event): its key, arrival and matched rules"),
    ItemType(SENDS, "stats#", "sending.daily_stats", "a day's delivery counters per shard", sk=("f#", "s#")),
    ItemType(SENDS, "export#", "reports.export_store", "an export of a send's recipients and its progress (sk export)"),
    ItemType(SENDS, "carrierroute", "sending.carrier_rotation", "a lane's weights between the carriers (sk <lane>)"),
    ItemType(SENDS, "carrierstate", "sending.carrier_rotation", "a carrier's state in the rotation: active, drained, "
             "out until its probation ends (sk <carrier>)"),
    ItemType(SENDS, "carrierhealth#", "sending.carrier_health_counts", "a carrier's outcome and receipt counters "
             "of one Beijing minute, for the health watch"),
    # -- MESSAGES_TABLE: one item per recipient message
    ItemType(MESSAGES, "msg#", "sending.message_items", "a recipient message (sk msg); gsi3 lists a send's recipients, "
             "gsi2 an event's or a call's (caller#)",
             indexes=("phone#", "src#", "rcp#", "caller#")),
    ItemType(MESSAGES, "hold#", "sending.message_items", "a hold stopping queued messages (sk hold)"),
    ItemType(MESSAGES, "cid#", "sending.message_items", "the message a carrier's own id of it names (Tencent's "
             "SerialNo; sk cid), which that carrier's receipts carry"),
    # -- SUBSCRIPTIONS_TABLE: paid subscriptions
    ItemType(SUBSCRIPTIONS, "sub#", "sources.subscription_store", "a subscription (sk sub) and its sends",
             sk=("send#",), indexes=("subscriber#",)),
    ItemType(SUBSCRIPTIONS, "order#", "sources.subscription_store", "a payment order (sk order)"),
    ItemType(SUBSCRIPTIONS, "members#", "sources.subscription_store", "an item's active subscriptions",
             sk=("sub#",)),
    ItemType(SUBSCRIPTIONS, "latest#", "sources.subscription_store", "a subject's latest event of a type",
             sk=("type#",)),
    ItemType(SUBSCRIPTIONS, "otp#", "sources.subscription_store", "verification codes sent to a number",
             sk=("day#",)),
    ItemType(SUBSCRIPTIONS, "otptest#", "sources.subscription_store",
             "a test key's verification codes for a number, apart from its live ones", sk=("day#",)),
    # -- AUDIT_TABLE: the hash chain
    ItemType(AUDIT, "chain#", "audit.store", "a day's audit chain shard, one item per entry",
             indexes=("operator#", "office#")),
    # -- LIMITS_TABLE: per-number frequency counters (pk only; the prefix names the window)
    ItemType(LIMITS, "tpl#", "sending.frequency_limits", "sends of one template to a number per hour"),
    ItemType(LIMITS, "pub#", "sending.frequency_limits", "publicity sends to a number per day"),
)
# fmt: on

# Where a message came from: the ``source_id`` of its messages (see sending.messages).
SOURCE_IDS: dict[str, str] = {
    "send#": "a staff send request (sources.send_requests)",
    "evt#": "a business event and the trigger rule it matched (sources.business_events)",
    "call#": "a 12333 hang-up and the answer chosen (sources.hotline)",
    "sub#": "a subscription's send for an event or a day (sources.subscription_sends)",
    "renew#": "a subscription's renewal reminder (sources.subscription_sends)",
    "reminder#": "a subscription's period-end reminder (sources.subscription_sends)",
    "otp#": "a verification code (sources.subscriptions)",
    "batch#": "a queued batch, as the audit trail's shard key (audit.trail)",
}


def owners(prefix: str) -> list[ItemType]:
    """The item types whose partition key starts with ``prefix``."""
    return [item for item in ITEMS if item.pk == prefix]
