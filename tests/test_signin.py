"""Issue 7: sign-in methods, one line when sign-in fails, and sovereign clouds (endpoint, authority, scope)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError

from auditor.cli import CollectorFactory
from auditor.collect.errors import sign_in_failure
from auditor.collect.interface import Auth, Cloud
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.replay import ReplayTransport
from auditor.collect.signin import CLOUDS, credential
from auditor.status import ExitStatus
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli, with_parts

AZURE_VARIABLES = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
                   "AZURE_USERNAME", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLOUD")  # fmt: skip


@pytest.fixture
def live_credential(monkeypatch: pytest.MonkeyPatch) -> CollectorFactory:
    """The recorded tenant answers, but sign-in is the real azure-identity credential a live run would build."""
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no az on PATH: the CLI credential fails at once, as on a bare host
    return with_parts(credential=lambda recipe: credential(recipe.auth, recipe.cloud, recipe.tenant))


@pytest.mark.parametrize(
    ("auth", "tried", "advice"),
    [
        ("env", "environment service principal", "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"),
        ("cli", "Azure CLI (az login)", "run az login"),
    ],
)
def test_a_failed_sign_in_is_one_line_that_says_what_was_tried_and_what_to_do(
    tmp_path: Path, live_credential: CollectorFactory, auth: str, tried: str, advice: str
) -> None:
    argv = ("scan", "--replay", str(CONTOSO), "--auth", auth, "--out", str(tmp_path / "r"))
    status, _, stderr = run_cli(*argv, collectors=live_credential)

    # issue 27.7: a failed sign-in is nothing audited, not an unreadable list: its own code, no reports written
    assert status is ExitStatus.NOTHING_AUDITED and "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 2 and "left as they were" in lines[1]  # the sign-in line, then the audit's status
    (line,) = [line for line in lines if "sign in" in line]
    assert line.startswith("port25-audit: could not sign in, so no subscription was audited: ")
    assert f"(tried {tried}" in line
    assert f"To fix: {advice}" in line and len(line) < 600
    assert not (tmp_path / "r").exists()  # --out did not exist, and still does not


def test_the_default_credential_s_long_failure_is_condensed() -> None:
    message = (
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
        "Attempted credentials:\n"
        "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not "
        "fully configured.\nVisit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot\n"
        "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response.\n"
        "\tAzureCliCredential: Azure CLI not found on path\n"
        "To mitigate this issue, please refer to the troubleshooting guidelines here."
    )
    condensed = sign_in_failure(ClientAuthenticationError(message=message))
    assert condensed == (
        "DefaultAzureCredential failed to retrieve a token from the included credentials "
        "(tried EnvironmentCredential, ManagedIdentityCredential, AzureCliCredential)"
    )
    assert "\n" not in condensed
    assert sign_in_failure(ValueError("x")) is None


class ScopeSpy:
    """Records the scopes tokens are asked for."""

    def __init__(self) -> None:
        self.scopes: set[str] = set()

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.update(scopes)
        return AccessToken("t", 4102444800)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        self.scopes.update(scopes)
        return AccessTokenInfo("t", 4102444800)


def _recorded_against(host: str, tmp_path: Path) -> Path:
    document = json.loads(CONTOSO.read_text(encoding="utf-8"))
    text = json.dumps(document).replace("https://management.azure.com", host)
    path = tmp_path / "recording.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("argv", "environ", "cloud"),
    [
        (["--cloud", "usgov"], {}, Cloud.USGOV),
        ([], {"AZURE_CLOUD": "AzureUSGovernment"}, Cloud.USGOV),  # the Azure CLI's name for it
        (["--cloud", "china"], {"AZURE_CLOUD": "AzureUSGovernment"}, Cloud.CHINA),  # the option wins
        ([], {}, Cloud.PUBLIC),
    ],
)
def test_a_cloud_sets_endpoint_and_token_scope_together(
    tmp_path: Path, argv: list[str], environ: dict[str, str], cloud: Cloud
) -> None:
    endpoints = CLOUDS[cloud]
    recording = _recorded_against(endpoints.arm, tmp_path)
    spy = ScopeSpy()
    sent: list[ReplayTransport] = []

    def keep(recipe: CollectorRecipe) -> Any:
        sent.append(recipe.transport())
        return sent[-1]

    watched = with_parts(credential=lambda recipe: spy, transport=keep)
    out = tmp_path / "r"
    args = ["scan", "--replay", str(recording), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet", *argv]
    status, _, _ = run_cli(*args, environ=environ, collectors=watched)

    assert status is ExitStatus.INCOMPLETE  # the bundled tenant's two 403s, as on the public cloud
    hosts = {url.split("/")[2] for transport in sent for _, url in transport.sent}
    assert hosts == {endpoints.arm.removeprefix("https://")}
    assert spy.scopes == {f"{endpoints.arm}/.default"}
    public = tmp_path / "public"
    run_cli("scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(public), "--quiet")
    assert (out / "findings.csv").read_bytes() == (public / "findings.csv").read_bytes()


def test_each_cloud_signs_in_at_its_own_documented_authority_and_endpoint() -> None:
    """Microsoft's national-cloud documentation: Entra ID endpoints and ARM endpoints per cloud (written out here,
    not taken from the code or from azure-identity's constants)."""
    documented = {
        Cloud.PUBLIC: ("login.microsoftonline.com", "https://management.azure.com"),
        Cloud.USGOV: ("login.microsoftonline.us", "https://management.usgovcloudapi.net"),
        Cloud.CHINA: ("login.chinacloudapi.cn", "https://management.chinacloudapi.cn"),
    }
    assert {cloud: (e.authority, e.arm) for cloud, e in CLOUDS.items()} == documented


def test_an_unknown_azure_cloud_is_a_usage_error(tmp_path: Path) -> None:
    status, _, stderr = run_cli(
        "scan", "--replay", str(CONTOSO), "--out", str(tmp_path / "r"), environ={"AZURE_CLOUD": "Mars"}
    )
    assert status is ExitStatus.USAGE and "AZURE_CLOUD='Mars'" in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("auth", list(Auth))
def test_every_sign_in_method_builds_its_credential(auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    built = credential(auth, Cloud.USGOV, "contoso.onmicrosoft.com")
    expected = {
        Auth.DEFAULT: "DefaultAzureCredential",
        Auth.CLI: "AzureCliCredential",
        Auth.ENV: "EnvironmentCredential",
        Auth.MSI: "ManagedIdentityCredential",
        Auth.DEVICE: "DeviceCodeCredential",
    }[auth]
    assert type(built).__name__ == expected
