"""Where `--upload` puts the reports: a container of an Azure Blob Storage account, and a prefix in it. Parsed
without the SDK, so the command line can check it before anything is read."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")  # a container name, as Azure Storage allows


class UploadTargetError(ValueError):
    """An --upload URL that does not name a container."""


@dataclass(frozen=True)
class UploadTarget:
    account_url: str  # https://ACCOUNT.blob.core.windows.net, or an emulator's https://host:port/ACCOUNT
    container: str
    prefix: str  # may be empty

    @property
    def container_url(self) -> str:
        return f"{self.account_url}/{self.container}"

    def blob_name(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    @classmethod
    def parse(cls, url: str) -> UploadTarget:
        """`https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]`; for the storage emulator on this machine,
        `https://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]`. Only https: a bearer token is never sent in clear."""
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or parts.username:
            raise UploadTargetError(
                f"{url!r} is not an https URL of a blob container (https://ACCOUNT.blob.core.windows.net/CONTAINER"
                "/PREFIX)"
            )
        segments = [s for s in parts.path.split("/") if s]
        origin = f"https://{parts.netloc}"
        if _local(parts.hostname):  # the emulator puts the account in the path
            if len(segments) < 2:
                raise UploadTargetError(f"{url!r}: the emulator's URL is https://HOST:PORT/ACCOUNT/CONTAINER[/PREFIX]")
            origin, segments = f"{origin}/{segments[0]}", segments[1:]
        if not segments or not _NAME.fullmatch(segments[0]):
            raise UploadTargetError(
                f"{url!r} names no blob container (3-63 lower-case letters, digits and hyphens after the host)"
            )
        return cls(origin, segments[0], "/".join(segments[1:]))


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
