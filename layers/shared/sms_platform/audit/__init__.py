"""The audit trail: every staff action and every queued send, hash-chained per day and shard.

Inside, models → store → services: ``chain`` (entries, hashes, keys and the check of a chain,
pure), ``store`` (the audit table), ``trail`` (appending entries, the one way anything is
audited, and verifying a day), ``search`` (auditors' searches), ``views`` (their answers) and ``archive`` (the nightly
export to the Object Lock bucket). ``python -m sms_platform.audit verify|export --day
YYYY-MM-DD``."""
