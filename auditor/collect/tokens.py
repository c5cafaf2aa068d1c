"""One token per scope (and tenant) for the whole process.

Every SDK client has its own bearer-token policy, which asks its credential for a token the first time it sends:
five clients a subscription, a thousand subscriptions, five thousand token requests. Some credentials cache
(MSAL-based ones), some do not: `AzureCliCredential` runs an `az` process for every request, half a second of
CPU each. Wrapped in `SharedTokenCredential`, the credential is asked once per scope, again only when the token
nears its expiry; while one thread fetches, the others that need the same token wait for it. Worker processes
are handed this process's tokens with their first chunk (over the pipe to the child process, never to disk), so
a scan signs in once whatever the number of processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential, TokenRequestOptions

# azure-core's bearer-token policy renews a token five minutes before it expires; so does this cache.
REFRESH_WINDOW_SECONDS = 300

TokenKey = tuple[tuple[str, ...], str, bool]  # scopes, tenant, continuous access evaluation


class SharedTokenCredential:
    """A credential that hands every caller of the process the same token for the same scopes and tenant."""

    def __init__(self, inner: TokenCredential, clock: Callable[[], float] = time.time) -> None:
        self.inner = inner
        self._clock = clock
        self._tokens: dict[TokenKey, AccessTokenInfo] = {}
        self._fetching: dict[TokenKey, threading.Lock] = {}
        self._lock = threading.Lock()

    def get_token_info(self, *scopes: str, options: TokenRequestOptions | None = None) -> AccessTokenInfo:
        options = options or {}
        key: TokenKey = (tuple(scopes), options.get("tenant_id", ""), bool(options.get("enable_cae", False)))
        if options.get("claims"):  # a claims challenge (the token was revoked): always a new one, then shared
            return self._fetch(key, scopes, options)
        with self._lock:
            token = self._tokens.get(key)
            fetching = self._fetching.setdefault(key, threading.Lock())
        if token is not None and self._fresh(token):
            return token
        with fetching:  # one fetch per key at a time; who waited takes what it brought
            with self._lock:
                token = self._tokens.get(key)
            if token is not None and self._fresh(token):
                return token
            return self._fetch(key, scopes, options)

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        options: TokenRequestOptions = {"enable_cae": enable_cae}
        if claims:
            options["claims"] = claims
        if tenant_id:
            options["tenant_id"] = tenant_id
        token = self.get_token_info(*scopes, options=options)
        return AccessToken(token.token, token.expires_on)

    def tokens(self) -> dict[TokenKey, AccessTokenInfo]:
        """The tokens held and still fresh: what a worker process is handed so it need not sign in again."""
        with self._lock:
            return {key: token for key, token in self._tokens.items() if self._fresh(token)}

    def seed(self, tokens: dict[TokenKey, AccessTokenInfo]) -> None:
        """Hold tokens another process of the run fetched, where this one holds none fresh for their key."""
        with self._lock:
            for key, token in tokens.items():
                held = self._tokens.get(key)
                if self._fresh(token) and (held is None or not self._fresh(held)):
                    self._tokens[key] = token

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def _fresh(self, token: AccessTokenInfo) -> bool:
        now = self._clock()
        if token.refresh_on is not None and token.refresh_on <= now:
            return False
        return token.expires_on - now > REFRESH_WINDOW_SECONDS

    def _fetch(self, key: TokenKey, scopes: tuple[str, ...], options: TokenRequestOptions) -> AccessTokenInfo:
        if hasattr(self.inner, "get_token_info"):
            token: AccessTokenInfo = self.inner.get_token_info(*scopes, options=options)
        else:
            legacy = self.inner.get_token(*scopes, **options)
            token = AccessTokenInfo(legacy.token, legacy.expires_on)
        with self._lock:
            self._tokens[key] = token
        return token


def shared(credential: TokenCredential) -> SharedTokenCredential:
    """The credential, wrapped once (a credential already shared stays as it is)."""
    return credential if isinstance(credential, SharedTokenCredential) else SharedTokenCredential(credential)
