"""Templates, from values to the steps that move them:

- ``models``: categories, statuses, versions and their content; who may write or review what;
  the answers the services give staff.
- ``store``: templates and the reviewers' forbidden words in the control table (nothing else touches them).
- ``words``: the forbidden word list in force and the reviewers' changes to it.
- ``filing``: filing with the carrier, and the poller that activates and expires versions.
- ``workflow``: writing, submitting and reviewing versions; the version a send may use.
- ``signatures``: the offices' signatures. ``template_check``: the check while an author types.
"""
