"""The address book: units and persons with the phone numbers collected for them.

- ``models``: record and input shapes, districts, insurance types, source channels, the number
  in use.
- ``views_models``: the answers the services below return (batch results, what staff see,
  imports, lists, channel grants).
- ``records``: pure rules (merging a collection, index and counter keys).
- ``access``: the districts a staff member works on.
- ``record_items``: how a record lies in ``CONTACTS_TABLE`` (its items, keys and wire form).
- ``repository``: the records on ``CONTACTS_TABLE`` (encrypted, found by keyed hash): reads and writes.
- ``upserts``: validated records merged in, one or many to a transaction.
- ``lookups``: a unit or person found by its ID number or credit code, and whom to text about it.
- ``collection``: per-record validation, batch upsert, CSV rows.
- ``imports``: staff CSV imports through S3 and the work queue.
- ``chunks``: a fan-out worker's share of an audience and the pages it reads.
- ``audiences``: segments counted from counters and expanded in parallel chunks.
- ``lists``: uploaded lists of ID numbers or credit codes as audiences.
- ``channels``: the service channels' contact submissions and the sources each may claim.
- ``views``: what staff see (masked) and the audited reveal of a number.
- ``optout_requests``: a citizen's opt-out or opt-in taken by staff, audited.

Every staff change is audited by the service that makes it, with the staff member's context.
"""
