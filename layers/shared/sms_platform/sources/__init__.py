"""Where sends come from.

- Send requests: ``send_request_models`` (statuses, rules, what authors and reviewers see),
  ``send_request_store`` (their items), ``send_requests`` (proposing, reviewing, releasing,
  halting a suspended office's), ``fanout`` (a released send expanded in parallel chunks) and
  ``staff_phones`` (the phone a staff member proved with a code: test sends, reset passwords).
- Business events and trigger rules: ``business_events``, ``trigger_conditions`` (the condition
  language, pure), ``trigger_rule_models``, ``trigger_rule_store`` and ``trigger_rules`` (writing,
  reviewing, event-type grants).
- 12333 hang-ups: ``hotline``.
- Paid subscriptions: ``subscription_models``, ``subscription_store``, ``subscription_items``
  (items on sale, channel settings), ``subscriptions`` (what the channels do: codes, orders,
  payments) and ``subscription_sends``; ``verification_codes`` (codes by SMS, also for staff phones).
- The platform's own messages (``channel_sends``), office suspension and temporary passwords
  delivered by SMS (``office_suspension``, ``password_delivery``).
"""
