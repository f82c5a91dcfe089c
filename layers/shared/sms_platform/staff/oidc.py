"""Verifying staff bearer tokens (OpenID Connect, CONTRACTS §5).

The issuer is the platform's Cognito user pool by default, or the bureau's own OIDC service
where Cognito is unavailable. Keys come from the issuer's published JWKS (``OIDC_JWKS_URL``
when set, else ``{OIDC_ISSUER}/.well-known/jwks.json``). The keys are fetched with ``requests``
rather than PyJWT's urllib so that one HTTP stack (timeouts, proxies, and moto in tests) serves
every outbound call.

Token expiry is judged by the real time, as the issuer stamped it: the platform clock may be
started elsewhere (``PLATFORM_CLOCK``) while the issuer keeps real time.
"""

from __future__ import annotations

import threading
from typing import Any

from sms_platform.foundation.settings import settings

LEEWAY_SECONDS = 10
JWKS_CACHE_SECONDS = 300

_clients: dict[str, Any] = {}
_lock = threading.Lock()


class InvalidToken(Exception):
    """The token is missing, malformed, expired, from another issuer or for another client."""


def issuer() -> str:
    return settings().value("OIDC_ISSUER").rstrip("/")


def audience() -> str:
    return settings().oidc_audience


def jwks_url() -> str:
    return settings().oidc_jwks_url or f"{issuer()}/.well-known/jwks.json"


def _client(url: str) -> Any:
    with _lock:
        if url in _clients:
            return _clients[url]
        # deferred: PyJWT and requests (~22 ms) stay out of the authorizer's cold import until the first token
        import requests
        from jwt import PyJWKClient
        from jwt.exceptions import PyJWKClientConnectionError

        class RequestsJWKClient(PyJWKClient):
            def fetch_data(self) -> Any:
                try:
                    answer = requests.get(self.uri, headers=self.headers, timeout=self.timeout, allow_redirects=False)
                    answer.raise_for_status()
                    jwk_set = self._as_jwk_set_payload(answer.json())
                except (requests.RequestException, ValueError) as error:
                    raise PyJWKClientConnectionError(f"cannot fetch the issuer's keys: {error}") from error
                if self.jwk_set_cache is not None:
                    self.jwk_set_cache.put(jwk_set)
                return jwk_set

        client = RequestsJWKClient(url, lifespan=JWKS_CACHE_SECONDS, timeout=5)
        _clients[url] = client
        return client


def verify(token: str) -> dict[str, Any]:
    """The token's claims once its signature, issuer, expiry and audience check out."""
    import jwt  # deferred: see _client

    if not token:
        raise InvalidToken("no token")
    try:
        key = _client(jwks_url()).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=issuer(),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    if not _for_this_client(claims):
        raise InvalidToken("token issued for another client")
    return claims


def _for_this_client(claims: dict[str, Any]) -> bool:
    expected = audience()
    if not expected:
        return True
    if claims.get("token_use") == "access":  # Cognito access tokens name the client, not an audience
        return claims.get("client_id") == expected
    aud = claims.get("aud")
    return expected in aud if isinstance(aud, list) else aud == expected


def username_of(claims: dict[str, Any]) -> str:
    """The account name the token speaks for (Cognito access and ID tokens, or OIDC)."""
    for name in ("username", "cognito:username", "preferred_username"):
        if claims.get(name):
            return str(claims[name]).strip().lower()
    raise InvalidToken("token names no user")


def session_of(claims: dict[str, Any]) -> str:
    """One sign-in's id, the same for every token refreshed from it where the issuer says so."""
    for name in ("origin_jti", "sid", "jti"):
        if claims.get(name):
            return str(claims[name])
    return f"{claims.get('sub', '')}@{claims.get('iat', '')}"


def reset() -> None:
    """Forget fetched keys (tests)."""
    with _lock:
        _clients.clear()
