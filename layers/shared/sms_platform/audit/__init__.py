"""The audit trail: every staff action and every queued send, hash-chained per day and shard
(``trail``); ``python -m sms_platform.audit.trail verify|export --day YYYY-MM-DD``."""
