"""The address book: units and persons with the phone numbers collected for them.

- ``models``: record and input shapes, districts, insurance types, source channels.
- ``records``: pure rules (merging a collection, the number in use, index and counter keys).
- ``repository``: the records on ``CONTACTS_TABLE`` (encrypted, found by keyed hash).
- ``collection``: per-record validation, batch upsert, CSV rows.
- ``imports``: staff CSV imports through S3 and the work queue.
- ``audiences``: segments counted from counters and expanded in parallel chunks.
- ``lists``: uploaded lists of ID numbers or credit codes as audiences.
- ``views``: what staff see (masked) and the audited reveal of a number.
"""
