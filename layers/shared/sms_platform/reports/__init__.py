"""Reports for staff built from what was sent: delivery reports of a send or a day, a citizen's
recent messages (the 12333 desk's lookup), the daily statistics of every kind, and the dead-letter
queues as IT operations see and redrive them (``models`` for what they answer with)."""
