"""Staff: who they are (``context``: offices, roles, the staff context of a request), what each
role may do (``rights``), tokens from the identity service (``oidc``), and accounts.

Accounts go models → store → services: ``account_models`` (the account, password policy and
the other rules of graded protection, pure), ``account_store`` (the control-table records of
accounts, sessions and office suspensions, and the authorizer's cache), ``identity`` (the
Cognito user pool), then ``accounts`` (administration), ``signing_in`` (sign-in, challenges,
refresh, sign-out), ``sessions`` (the authorizer's decision, idle timeout) and ``security`` (a
staff member's own password and TOTP). The services answer staff with ``account_views``' pydantic
models, which the authorizer never imports."""
