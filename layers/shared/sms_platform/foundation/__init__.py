"""What every other package stands on: the clock, the refusals and their HTTP shape, request
bodies and paging cursors, logging, secrets, encryption and keyed hashes, phone and ID numbers,
the rules for visible text and safe spreadsheet cells. No domain here."""
