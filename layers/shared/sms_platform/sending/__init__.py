"""Sending: recipient messages and their states, the queue lanes and their batches, the outbox
that queues them, the dispatcher that hands them to the carrier exactly once, frequency limits,
opt-outs, the replies inbox, what the carrier pushes back, daily statistics and dead letters."""
