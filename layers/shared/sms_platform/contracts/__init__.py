"""What outside systems call, as CONTRACTS.md promises it: the shapes of each contract route's
requests and answers, their examples, and their description in the platform's one OpenAPI
document (``openapi.contract_document``), which the staff API merges into ``/v1/openapi.json``.

The routes themselves are served by other functions (hotline, trigger, subscribe, dispatch),
whose handlers never import this package: describing a route costs its cold start nothing.
Where a handler checks a body with a model of its own package (a business event, an order, a
carrier receipt, a contact record), the description uses that model, so the two cannot drift;
the rest are declared here (``shapes``).
"""
