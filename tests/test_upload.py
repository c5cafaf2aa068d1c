"""Issue 17.4: `--upload` puts the report set into a Blob Storage container, signed in with a token, against a
real Blob service: Azurite, Microsoft's emulator, started here on loopback over HTTPS (a bearer token is never
sent in clear)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.rest import HttpRequest
from azure.storage.blob import BlobServiceClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from auditor.cli import Environment, main
from auditor.deliver.blob import OutsideTarget, PrefixOnlyTransport, upload_reports
from auditor.deliver.target import UploadTarget, UploadTargetError
from auditor.status import ExitStatus
from tests.conftest import CONTOSO, CONTOSO_CONFIG, REPO

ACCOUNT = "devstoreaccount1"  # Azurite's account


def _azurite() -> str:
    found = os.environ.get("AZURITE_BLOB") or shutil.which("azurite-blob")
    local = REPO / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
    if found or local.exists():
        return found or str(local)
    message = (
        "these tests upload reports to a real Blob service (Azurite) on loopback; to run them, "
        "npm install --prefix .ci/node azurite@3.37.0 (.ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run these tests: {message}", pytrace=False)
    pytest.skip(message)


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's Blob service on https://127.0.0.1:PORT, checking bearer tokens (issuer, audience, expiry)."""
    executable = _azurite()
    directory = tmp_path_factory.mktemp("azurite")
    cert, key = _certificate(directory)
    port = _free_port()
    process = subprocess.Popen(
        [executable, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence", "--oauth", "basic",
         "--cert", str(cert), "--key", str(key), "--skipApiVersionCheck", "--silent"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("Azurite did not start within 30 s")
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)  # this machine trusts the emulator's certificate, for these tests
    try:
        yield f"https://127.0.0.1:{port}/{ACCOUNT}"
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
        process.kill()
        process.wait(timeout=10)


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


class EntraToken:
    """A token shaped as Microsoft Entra ID issues one for Azure Storage (Azurite checks its claims, not its
    signature), and the scopes it was asked for."""

    def __init__(self) -> None:
        self.scopes: set[str] = set()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = self.get_token_info(*scopes)
        return AccessToken(token.token, token.expires_on)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.scopes.update(scopes)
        now = int(time.time())
        claims = {"aud": "https://storage.azure.com", "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000001/",
                  "iat": now - 60, "nbf": now - 60, "exp": now + 3600}  # fmt: skip
        return AccessTokenInfo(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.", now + 3600)


def _container(azurite: str, name: str) -> Any:
    service = BlobServiceClient(azurite, credential=EntraToken())
    container = service.get_container_client(name)
    if not container.exists():
        container.create_container()
    return container


def _reports(directory: Path, **files: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        path = directory / name.replace("_", ".", 1)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_the_set_goes_under_the_run_and_latest_holds_exactly_the_last_set(azurite: str, tmp_path: Path) -> None:
    container = _container(azurite, "reports")
    target = UploadTarget.parse(f"{azurite}/reports/weekly/prod")
    token = EntraToken()
    first = _reports(tmp_path / "1", findings_csv="a,b\r\n", drift_csv="change\r\n")
    second = _reports(tmp_path / "2", findings_csv="a,b\r\n1,2\r\n")

    upload_reports(first, target, token, "2026-12-01T08-00-00Z")  # type: ignore[arg-type]
    names = upload_reports(second, target, token, "2026-12-08T08-00-00Z")  # type: ignore[arg-type]

    stored = {b.name for b in container.list_blobs()}
    assert names == ["weekly/prod/2026-12-08T08-00-00Z/findings.csv", "weekly/prod/latest/findings.csv"]
    assert stored == {
        "weekly/prod/2026-12-01T08-00-00Z/findings.csv",
        "weekly/prod/2026-12-01T08-00-00Z/drift.csv",
        "weekly/prod/2026-12-08T08-00-00Z/findings.csv",
        "weekly/prod/latest/findings.csv",  # the earlier run's drift.csv is gone from latest/, kept in its own folder
    }
    assert container.download_blob("weekly/prod/latest/findings.csv").readall() == b"a,b\r\n1,2\r\n"
    assert token.scopes == {"https://storage.azure.com/.default"}


def test_nothing_outside_the_prefix_is_ever_sent(azurite: str) -> None:
    target = UploadTarget.parse(f"{azurite}/reports/weekly")
    transport = PrefixOnlyTransport(target)
    outside = [("PUT", "/reports/other/x.csv"), ("DELETE", "/reports/weeklyish/x"), ("PUT", "/other/weekly/x"),
               ("GET", "/reports/weekly/latest/findings.csv"), ("POST", "/reports/weekly/x")]  # fmt: skip
    for method, path in outside:
        with pytest.raises(OutsideTarget):
            transport.send(HttpRequest(method, f"{azurite}{path}"))


@pytest.mark.slow
def test_a_scan_uploads_its_reports_and_a_failed_upload_keeps_them_and_exits_73(azurite: str, tmp_path: Path) -> None:
    container = _container(azurite, "compliance")
    token = EntraToken()

    def uploads(files: Any, target: UploadTarget, run: str, recipe: Any) -> list[str]:
        return upload_reports(files, target, token, run)  # type: ignore[arg-type]

    out = tmp_path / "reports"
    argv = ["scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet"]
    err = io.StringIO()
    status = main(
        [*argv, "--upload", f"{azurite}/compliance/contoso"], Environment(io.StringIO(), err, uploads=uploads)
    )

    assert status is ExitStatus.INCOMPLETE  # the bundled tenant's two 403s; the upload itself succeeded
    latest = {b.name.rsplit("/", 1)[-1] for b in container.list_blobs(name_starts_with="contoso/latest/")}
    assert latest == {p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert container.download_blob("contoso/latest/findings.csv").readall() == (out / "findings.csv").read_bytes()

    closed = f"https://127.0.0.1:{_free_port()}/{ACCOUNT}/compliance/contoso"
    err = io.StringIO()
    status = main([*argv, "--upload", closed], Environment(io.StringIO(), err, uploads=uploads))

    assert status is ExitStatus.CANT_CREATE and "Traceback" not in err.getvalue()
    assert f"the reports are in {out}, but uploading them to" in err.getvalue()
    assert (out / "findings.csv").exists() and (out / "scan.json").exists()


@pytest.mark.parametrize(
    "url",
    ["http://acct.blob.core.windows.net/reports", "https://acct.blob.core.windows.net/", "https://acct.blob.core.windows.net/Bad_Name",
     "https://acct.blob.core.windows.net/reports?sig=secret", "https://127.0.0.1:1000/devstoreaccount1"],
)  # fmt: skip
def test_an_upload_url_that_names_no_container_is_refused_before_anything_is_read(url: str, tmp_path: Path) -> None:
    with pytest.raises(UploadTargetError):
        UploadTarget.parse(url)
    err = io.StringIO()
    status = main(["scan", "--replay", str(CONTOSO), "--out", str(tmp_path / "r"), "--upload", url],
                  Environment(io.StringIO(), err))  # fmt: skip
    assert status is ExitStatus.USAGE and "--upload" in err.getvalue() and not (tmp_path / "r").exists()


def test_a_storage_account_url_parses_into_account_container_and_prefix() -> None:
    target = UploadTarget.parse("https://contoso.blob.core.windows.net/audits/port25/weekly")
    assert (target.account_url, target.container, target.prefix) == (
        "https://contoso.blob.core.windows.net",
        "audits",
        "port25/weekly",
    )
    assert target.blob_name("latest", "scan.json") == "port25/weekly/latest/scan.json"
