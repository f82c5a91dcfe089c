"""Reports for staff built from what was sent: delivery reports of a send or a day."""
