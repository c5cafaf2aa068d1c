"""Upload the report set to an Azure Blob Storage container: the only write port25-audit can make to Azure, made
only when asked (`--upload`), and only under the prefix named.

Each run's files go to `PREFIX/<scan time>/`, then to `PREFIX/latest/`, which then holds exactly this run's set (a
report an earlier run wrote and this one did not is removed there). Every request goes through
`PrefixOnlyTransport`, which refuses anything outside the prefix before it is sent; the scan's own transport stays
read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import ContainerClient, ExponentialRetry

from auditor.deliver.target import UploadTarget

LATEST = "latest"


class OutsideTarget(Exception):
    """Raised instead of sending a request outside the prefix --upload named."""

    def __init__(self, method: str, url: str) -> None:
        super().__init__(f"refused to send {method} {urlsplit(url).path}: outside the --upload prefix")


class PrefixOnlyTransport(RequestsTransport):
    """Sends only: the listing of the prefix (GET on the container, with that prefix), and writes and deletes of
    blobs under it."""

    def __init__(self, target: UploadTarget, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(target.container_url)
        self._origin = (parts.scheme, parts.netloc)
        self._container = parts.path.rstrip("/")
        self._blobs = f"{self._container}/{target.prefix}/" if target.prefix else f"{self._container}/"

    def send(self, request: Any, **kwargs: Any) -> Any:
        if not self._allowed(request.method.upper(), request.url):
            raise OutsideTarget(request.method, request.url)
        return super().send(request, **kwargs)

    def _allowed(self, method: str, url: str) -> bool:
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            return False
        path = unquote(parts.path)
        if any(segment in (".", "..") for segment in path.split("/")):
            return False  # the path checked must be the path the server reads
        if method in ("PUT", "DELETE"):
            return path.startswith(self._blobs)
        if method == "GET":  # the container's listing, by prefix
            return path.rstrip("/") == self._container and "comp=list" in parts.query
        return False


def upload_reports(files: Sequence[Path], target: UploadTarget, credential: TokenCredential, run: str) -> list[str]:
    """Upload the files under `PREFIX/<run>/` and `PREFIX/latest/`; the blob names written."""
    client = ContainerClient(
        target.account_url,
        target.container,
        credential=credential,
        transport=PrefixOnlyTransport(target),
        # a few seconds of retries, not Blob Storage's default of minutes: a scheduled run soon says the upload failed
        retry_policy=ExponentialRetry(initial_backoff=1, increment_base=2, retry_total=3),
    )
    written: list[str] = []
    with client:
        for folder in (run, LATEST):
            for file in files:
                name = target.blob_name(folder, file.name)
                with file.open("rb") as handle:
                    client.upload_blob(name, handle, overwrite=True)
                written.append(name)
        current = {target.blob_name(LATEST, file.name) for file in files}
        for blob in client.list_blobs(name_starts_with=target.blob_name(LATEST, "")):
            if blob.name not in current:
                client.delete_blob(blob.name)
    return written
