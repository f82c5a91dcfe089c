"""Where sends come from: send requests and their fan-out, business events and trigger rules,
12333 hang-ups, subscriptions and their verification codes, the platform's own messages
(``channel_sends``) and temporary passwords delivered by SMS."""
