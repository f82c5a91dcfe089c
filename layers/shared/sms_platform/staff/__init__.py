"""Staff: who they are (``context``: offices, roles, the staff context of a request), what each
role may do (``rights``), tokens from the identity service (``oidc``), and accounts, sign-in and
suspension (``accounts``)."""
