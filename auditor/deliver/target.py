"""Where `--upload` puts the reports: a container of an Azure Blob Storage account, and a prefix in it. Parsed
without the SDK, so the command line can check it before anything is read."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")  # a container name, as Azure Storage allows


# Each cloud's Blob Storage endpoint suffix, by the cloud's --cloud value (`tests/test_upload.py` keeps the keys
# equal to `Cloud`'s): a bearer token for Storage goes to an account under the scan's own cloud, or to the
# emulator on this machine, and nowhere else.
BLOB_SUFFIXES = {
    "public": "blob.core.windows.net",
    "usgov": "blob.core.usgovcloudapi.net",
    "china": "blob.core.chinacloudapi.cn",
}
_ACCOUNT = re.compile(r"[a-z0-9]{3,24}")  # a storage account name, as Azure Storage allows


class UploadTargetError(ValueError):
    """An --upload URL that does not name a container."""


def shown_url(url: str) -> str:
    """The URL as an error may show it: scheme, host and path; never a user name, password, query (a SAS) or
    fragment."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return "(a URL that cannot be read)"
    port = f":{parts.port}" if _port(parts) else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else parts.path


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


@dataclass(frozen=True)
class UploadTarget:
    account_url: str  # https://ACCOUNT.blob.core.windows.net, or an emulator's https://host:port/ACCOUNT
    container: str
    prefix: str  # may be empty
    cloud: str = ""  # the cloud whose blob endpoint it is ("" for the emulator on this machine)

    @property
    def container_url(self) -> str:
        return f"{self.account_url}/{self.container}"

    def blob_name(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def serves(self, cloud: str) -> bool:
        """Whether the scan's cloud (its --cloud value) may upload here: its own endpoint, or the emulator."""
        return self.cloud in ("", cloud)

    @classmethod
    def parse(cls, url: str) -> UploadTarget:
        """`https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX]` (or a sovereign cloud's blob endpoint); for
        the storage emulator on this machine, `https://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX]`. Only https: a
        bearer token is never sent in clear. Each path segment names itself: `.`, `..` and empty segments are
        refused, so the path checked is the path sent."""
        shown = shown_url(url)
        try:
            parts = urlsplit(url.strip())
            parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
        except ValueError:
            raise UploadTargetError(f"{shown!r} is not an https URL of a blob container") from None
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
            raise UploadTargetError(
                f"{shown!r} is not an https URL of a blob container (https://ACCOUNT.blob.core.windows.net/CONTAINER"
                "/PREFIX, with no user name, query or fragment: sign-in is the scan's own)"
            )
        segments = parts.path.split("/")[1:]
        if segments and segments[-1] == "":
            segments.pop()  # one trailing slash
        if any(unquote(s) in ("", ".", "..") or "/" in unquote(s) or "\\" in unquote(s) for s in segments):
            raise UploadTargetError(f"{shown!r}: a path segment is empty, '.' or '..'; name the container and prefix")
        host, cloud = parts.hostname.lower(), ""
        origin = f"https://{parts.netloc}"
        if _local(host):  # the emulator puts the account in the path
            if len(segments) < 2:
                raise UploadTargetError(
                    f"{shown!r}: the emulator's URL is https://HOST:PORT/ACCOUNT/CONTAINER[/PREFIX]"
                )
            origin, segments = f"{origin}/{segments[0]}", segments[1:]
        else:
            account, _, suffix = host.partition(".")
            cloud = next((name for name, known in BLOB_SUFFIXES.items() if suffix == known), "")
            if not cloud or not _ACCOUNT.fullmatch(account) or _port(parts) not in (None, 443):
                raise UploadTargetError(
                    f"{shown!r} is not an Azure Blob Storage account endpoint (ACCOUNT."
                    f"{' or ACCOUNT.'.join(BLOB_SUFFIXES.values())}, or the emulator on this machine): the "
                    "Storage token is sent to no other host"
                )
        if not segments or not _NAME.fullmatch(segments[0]):
            raise UploadTargetError(
                f"{shown!r} names no blob container (3-63 lower-case letters, digits and hyphens after the host)"
            )
        return cls(origin, segments[0], "/".join(segments[1:]), cloud)


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
