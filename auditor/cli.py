"""The command line: `main(argv, env) -> ExitStatus`, runnable in-process by tests."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

from auditor import __version__
from auditor.collect.interface import (
    CLOUD_ALIASES,
    DEFAULT_MAX_WORKERS,
    DEFAULT_PROCESSES,
    PORTAL_URLS,
    Auth,
    Cloud,
    Collector,
    Source,
)
from auditor.config import GUID, ConfigError, load_config
from auditor.deliver.target import UploadTarget, UploadTargetError
from auditor.model import (
    AUDITED_STATES,
    DEFAULT_RULESET,
    AuditConfig,
    Ruleset,
    Scope,
    StoppedState,
    Verdict,
)
from auditor.report.interface import DEFAULT_FORMATS, Format
from auditor.report.progress import progress_bar
from auditor.report.rules_doc import rules_markdown, rules_text
from auditor.report.terminal import PrintableStream, print_summary, raw_stream
from auditor.report.write import ReportsLocked, reports_lock, write_atomically
from auditor.status import ExitStatus, exit_codes_epilog

if TYPE_CHECKING:
    from auditor.collect.recipe import CollectorRecipe

log = logging.getLogger("auditor")
E = TypeVar("E", bound=StrEnum)


# The collector a recipe makes, with `processes` processes: tests give their own to watch or fault the reading.
CollectorFactory = Callable[["CollectorRecipe", int], Collector]
# Uploads the written reports to --upload's container: (files, target, run's folder name, recipe) -> blob names.
Uploader = Callable[[Sequence[Path], UploadTarget, str, "CollectorRecipe"], list[str]]


@dataclass
class Environment:
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    now: Callable[[], dt.datetime] = field(default_factory=lambda: lambda: dt.datetime.now(dt.UTC))
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    collectors: CollectorFactory = field(default_factory=lambda: _build_collector)
    uploads: Uploader = field(default_factory=lambda: _upload)


def _upload(files: Sequence[Path], target: UploadTarget, run: str, recipe: CollectorRecipe) -> list[str]:
    """Upload the reports, signed in as the scan was (a recording's replay credential has no storage access)."""
    from auditor.deliver.blob import upload_reports

    return upload_reports(files, target, recipe.credential(), run)


def _build_collector(recipe: CollectorRecipe, processes: int) -> Collector:
    # the SDK is imported only by a command that reads Azure: --version and --help answer without it
    from auditor.collect.factory import build_collector

    return build_collector(recipe, processes)


class _Exit(Exception):
    def __init__(self, status: ExitStatus) -> None:
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that writes to the environment's streams and exits with our codes (its own 2 means 'incomplete')."""

    env: Environment

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            (self.env.stderr if file is sys.stderr else self.env.stdout).write(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self.env.stderr.write(message)
        raise _Exit(ExitStatus.SUCCESS if status == 0 else ExitStatus.USAGE)

    def error(self, message: str) -> NoReturn:
        self.env.stderr.write(
            f"port25-audit: {message} (see port25-audit {self.prog.split()[-1]} --help)\n"
            if " " in self.prog
            else f"port25-audit: {message} (see port25-audit --help)\n"
        )
        raise _Exit(ExitStatus.USAGE)


def _choices(kind: type[E], what: str) -> Callable[[str], list[E]]:
    """An argparse type: a comma-separated list of one enum's values."""

    def parse(value: str) -> list[E]:
        chosen = []
        for name in (part.strip().lower() for part in value.split(",")):
            try:
                chosen.append(kind(name))
            except ValueError:
                known = ", ".join(member.value for member in kind)
                raise argparse.ArgumentTypeError(f"unknown {what} {name!r} (choose from {known})") from None
        return chosen

    return parse


def _subscription_id(value: str) -> str:
    if not GUID.fullmatch(value.strip()):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)"
        )
    return value.strip().lower()


def _upload_target(value: str) -> UploadTarget:
    try:
        return UploadTarget.parse(value)
    except UploadTargetError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _management_group(value: str) -> str:
    # a management group id: letters, digits, '-', '_', '(', ')' and '.', at most 90 (Azure's naming rules)
    if not re.fullmatch(r"[A-Za-z0-9_().-]{1,90}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a management group id (its name, e.g. mg-landingzones)")
    return value.strip()


def _scope(args: Any, config: AuditConfig | None = None) -> Scope:
    """What the audit reads: the subscriptions and management groups named, minus the excluded (on the command line,
    or `exclude = true` in the audit config), in the states audited."""
    excluded = {s: "--exclude-subscription" for s in args.exclude_subscription}
    for subscription_id, facts in config.subscriptions.items() if config else ():
        if facts.exclude:
            excluded.setdefault(subscription_id, facts.reason or "the audit config says exclude = true")
    return Scope(
        tuple(dict.fromkeys(args.subscription)),
        tuple(dict.fromkeys(args.management_group)),
        tuple(sorted(excluded.items())),
        AUDITED_STATES | {state.value for state in args.include_state},
    )


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _add_reading_options(command: argparse.ArgumentParser) -> None:
    """What scan and record share: where the tenant is read from, how much of it, how fast, how loudly."""
    command.add_argument(
        "--replay",
        type=Path,
        metavar="RECORDING.json",
        help="read a recorded tenant (Azure SDK test-proxy JSON) instead of signing in to Azure",
    )
    command.add_argument(
        "--auth",
        choices=[a.value for a in Auth],
        default=Auth.DEFAULT.value,
        help="sign-in method: default tries the environment, workload identity, managed identity and the Azure CLI "
        "in turn; cli, env, msi or device uses only that one",
    )
    command.add_argument("--tenant", metavar="TENANT", help="the Entra tenant (id or domain) to sign in to")
    command.add_argument(
        "--cloud",
        choices=[c.value for c in Cloud],
        help="Azure cloud: sets the ARM endpoint, sign-in authority and token scope together "
        "(default: AZURE_CLOUD, else public)",
    )
    command.add_argument(
        "--source",
        choices=[s.value for s in Source],
        default=Source.ARM.value,
        help="arm: every list of every subscription, each failure named (default); graph: a few Resource Graph "
        "queries across subscriptions, faster on large tenants, but blind to what the identity cannot read there",
    )
    command.add_argument(
        "--subscription",
        action="append",
        type=_subscription_id,
        default=[],
        metavar="ID",
        help="audit only this subscription (repeatable)",
    )
    command.add_argument(
        "--management-group",
        action="append",
        type=_management_group,
        default=[],
        metavar="ID",
        help="audit the subscriptions under this management group, at any depth (repeatable; with --subscription, "
        "both)",
    )
    command.add_argument(
        "--exclude-subscription",
        action="append",
        type=_subscription_id,
        default=[],
        metavar="ID",
        help="leave this subscription out; the reports list it as excluded (repeatable)",
    )
    command.add_argument(
        "--include-state",
        action="extend",
        type=_choices(StoppedState, "subscription state"),
        default=[],
        metavar="STATE",
        help="also audit subscriptions in this state: disabled, expired or deleted (by default only enabled, warned "
        "and past-due ones, whose resources can run; the others are listed, not read)",
    )
    command.add_argument(
        "--tag",
        action="append",
        type=_tag_name,
        default=[],
        metavar="NAME",
        help="report this Azure tag of each resource (else of its resource group) in findings.csv's tags column; "
        "the first one given groups the page's actions by owner (repeatable; reads each subscription's resource "
        "groups)",
    )
    command.add_argument(
        "--effective-routes",
        action="store_true",
        help="where a subnet may learn a default route from a VPN or ExpressRoute gateway (BGP), read the effective "
        "route table of one running NIC in it and decide on what Azure applies (a POST; needs "
        "Microsoft.Network/networkInterfaces/effectiveRouteTable/action, not in Reader)",
    )
    command.add_argument(
        "--max-workers",
        type=_positive,
        default=DEFAULT_MAX_WORKERS,
        metavar="N",
        help=f"lists read at once across subscriptions (default {DEFAULT_MAX_WORKERS})",
    )
    command.add_argument("--quiet", action="store_true", help="only errors on stderr, no progress bar or summary")
    command.add_argument(
        "--verbose", action="store_true", help="log every request line (method, path, status) on stderr; never headers"
    )
    command.add_argument("--debug", action="store_true", help="show the traceback of an internal error")


def build_parser(env: Environment) -> _Parser:
    _Parser.env = env
    parser = _Parser(
        prog="port25-audit",
        description="Audit what Azure does to outbound SMTP (TCP 25) for every VM, scale set, App Service / "
        "Functions app and slot, Azure Firewall, Container App and Container Instance of a tenant. Reads only.",
        epilog="examples:\n"
        "  port25-audit scan --replay fixtures/contoso.json --config fixtures/contoso.toml   # the bundled tenant\n"
        "  port25-audit scan --config audit.toml --out reports/                        # after az login\n"
        "  port25-audit record --out tenant.json --scrub\n"
        "  port25-audit rules\n\n"
        "port25-audit COMMAND --help shows each command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"port25-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    scan = commands.add_parser(
        "scan",
        help="audit the tenant and write reports",
        description="Audit every subscription the signed-in identity can see (or those --subscription and "
        "--management-group name) and write reports.",
        epilog="examples:\n"
        "  port25-audit scan --replay fixtures/contoso.json --config fixtures/contoso.toml --out reports/\n"
        "  port25-audit scan --subscription 00000000-0000-0000-0000-000000000000 --ruleset 2020\n"
        "  port25-audit scan --out reports/ --baseline previous/scan.json --fail-on open\n"
        "  port25-audit scan --management-group mg-landingzones \\\n"
        "      --upload https://contosoaudits.blob.core.windows.net/compliance/port25\n\n" + exit_codes_epilog("scan"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_reading_options(scan)
    scan.add_argument(
        "--processes",
        type=_positive,
        default=DEFAULT_PROCESSES,
        metavar="N",
        help="processes reading large tenants (ARM or Resource Graph mode), this one included (default: this "
        "machine's cores, at most 4)",
    )
    scan.add_argument(
        "--config",
        type=Path,
        metavar="audit.toml",
        help="facts Azure does not expose: per subscription offer, created, exemption_granted",
    )
    scan.add_argument(
        "--ruleset",
        choices=[r.value for r in Ruleset],
        default=DEFAULT_RULESET.value,
        help="edition of Microsoft's article to follow (default: current)",
    )
    scan.add_argument(
        "--out", type=Path, default=Path("reports"), metavar="DIR", help="report directory (default: reports/)"
    )
    scan.add_argument(
        "--format",
        type=_choices(Format, "format"),
        default=list(DEFAULT_FORMATS),
        metavar=",".join(f.value for f in Format),
        help=f"reports to write (default: {','.join(f.value for f in DEFAULT_FORMATS)}; the others on request)",
    )
    scan.add_argument(
        "--history",
        type=Path,
        metavar="DIR",
        help="keep this run's scan.json in DIR, and show the trend of open and unknown resources over the runs kept "
        "there (report.html, trend.csv)",
    )
    scan.add_argument(
        "--baseline",
        type=Path,
        metavar="PREVIOUS/scan.json",
        help="report what changed since that scan; exit 1 when a resource became open or a new open one appeared",
    )
    scan.add_argument(
        "--upload",
        type=_upload_target,
        metavar="URL",
        help="after writing the reports, upload them to this blob container and prefix "
        "(https://ACCOUNT.blob.core.windows.net/CONTAINER/PREFIX), under PREFIX/<scan time>/ and PREFIX/latest/, "
        "signed in as the scan is (Storage Blob Data Contributor); the only write port25-audit makes",
    )
    scan.add_argument(
        "--fail-on",
        type=_choices(Verdict, "verdict"),
        action="extend",
        default=[],
        metavar="VERDICT",
        help="exit 1 when any resource has this verdict (repeatable, or comma-separated)",
    )

    record = commands.add_parser(
        "record",
        help="read the tenant and write what Azure answered as a recording, to replay or to send us",
        description="Read the tenant as scan does and write every request and answer as an Azure SDK test-proxy "
        "recording, without Authorization headers. With --scrub, each answer keeps only the fields port25-audit "
        "reads, and ids, names, e-mail and public addresses in them are replaced consistently, so the recording "
        "replays to the same verdicts without naming the tenant or carrying its secrets.",
        epilog="examples:\n"
        "  port25-audit record --out tenant.json --scrub\n"
        "  port25-audit scan --replay tenant.json --out reports/\n"
        "  port25-audit record --replay tenant.json --scrub --out scrubbed.json   # scrub a recording you have\n\n"
        + exit_codes_epilog("record"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_reading_options(record)
    record.add_argument(
        "--out", type=Path, required=True, metavar="RECORDING.json", help="where to write the recording"
    )
    record.add_argument(
        "--scrub",
        action="store_true",
        help="keep only the fields port25-audit reads; replace subscription, tenant and object ids, names, e-mail, "
        "public IPv4 addresses and FQDNs in them, consistently (a --management-group's new name is said)",
    )

    rules = commands.add_parser(
        "rules",
        help="print the rule table with the article section each rule cites",
        description="Print every rule, its platform policy and the article sentence it follows.",
        epilog="examples:\n"
        "  port25-audit rules                         # a block per rule, for reading\n"
        "  port25-audit rules --markdown > RULES.md   # the Markdown docs/rules.md is generated from",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rules.add_argument(
        "--markdown", action="store_true", help="print the rule table as Markdown (the docs' rule section)"
    )
    rules.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)
    return parser


def options_markdown() -> str:
    """Every command's options as Markdown tables, from the parser itself (docs/options.md is generated from it)."""
    parser = build_parser(Environment())
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    lines = []
    for name, command in commands.choices.items():
        lines += [f"## `port25-audit {name}`", "", command.description or "", ""]
        shown_actions = [
            action
            for action in command._actions
            if action.option_strings and action.help not in (None, argparse.SUPPRESS) and action.dest != "help"
        ]
        if shown_actions:
            lines += ["| option | meaning |", "|---|---|"]
        for action in shown_actions:
            shown = "|".join(str(c) for c in action.choices) if action.choices else action.metavar
            flag = " ".join(action.option_strings) + (f" {shown}" if shown and action.nargs != 0 else "")
            required = " (required)" if action.required else ""
            meaning = str(action.help) + required
            lines.append("| `" + flag.replace("|", "\\|") + "` | " + meaning.replace("|", "\\|") + " |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> ExitStatus:
    env = env or Environment()
    # Everything printed passes the printable filter: names, error texts and paths come from Azure and users.
    env = replace(env, stdout=PrintableStream.wrapping(env.stdout), stderr=PrintableStream.wrapping(env.stderr))
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(env)
    if not words:  # no command: the usage, not an error
        parser.print_help(env.stdout)
        return ExitStatus.SUCCESS
    try:
        args = parser.parse_args(words)
    except _Exit as done:
        return done.status
    try:
        if args.command == "rules":
            env.stdout.write(rules_markdown() if args.markdown else rules_text())
            return ExitStatus.SUCCESS
        if args.command == "record":
            return _record(args, env)
        return _scan(args, env)
    except KeyboardInterrupt:
        env.stderr.write("port25-audit: interrupted (Ctrl-C): the audit did not finish\n")
        return ExitStatus.INTERRUPTED
    except Exception as err:  # the last line of defence: one line, never a traceback, unless asked
        if getattr(args, "debug", False):
            raise
        env.stderr.write(
            f"port25-audit: internal error: {type(err).__name__}: {err} "
            "(a bug in port25-audit; --debug shows the traceback)\n"
        )
        return ExitStatus.SOFTWARE


def _configure_logging(env: Environment, quiet: bool, verbose: bool = False) -> None:
    """Our messages on stderr; --verbose adds one line per request (method, path, status), never a header.

    The Azure SDK's own loggers stay at ERROR: its HTTP logging prints headers."""
    handler = logging.StreamHandler(env.stderr)
    handler.setFormatter(logging.Formatter("port25-audit: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING)
    log.propagate = False
    logging.getLogger("azure").setLevel(logging.ERROR)


class _CloudError(Exception):
    pass


def _cloud(args: Any, env: Environment) -> Cloud:
    """--cloud, else AZURE_CLOUD (ours or the Azure CLI's names), else the public cloud."""
    if args.cloud:
        return Cloud(args.cloud)
    named = env.environ.get("AZURE_CLOUD", "").strip()
    if not named:
        return Cloud.PUBLIC
    cloud = CLOUD_ALIASES.get(named.lower())
    if cloud is None:
        known = ", ".join(sorted({*CLOUD_ALIASES}))
        raise _CloudError(f"AZURE_CLOUD={named!r} is not a cloud port25-audit knows (known: {known})")
    return cloud


def _tag_name(value: str) -> str:
    name = value.strip()
    if not name or "=" in name:
        raise argparse.ArgumentTypeError(f"{value!r} is not a tag name (just the name, e.g. owner)")
    return name


def _recipe(args: Any, env: Environment, config: AuditConfig | None = None) -> CollectorRecipe:
    from auditor.collect.recipe import CollectorRecipe

    tag_exceptions = config is not None and any(entry.tag for entry in config.exceptions)
    return CollectorRecipe(
        replay=args.replay,
        max_workers=args.max_workers,
        source=Source(args.source),
        auth=Auth(args.auth),
        cloud=_cloud(args, env),
        tenant=args.tenant,
        effective_routes=args.effective_routes,
        group_tags=bool(args.tag) or tag_exceptions,
    )


def _source_label(args: Any) -> str:
    graph = args.source == Source.GRAPH
    if args.replay is not None:
        return f"replay:{args.replay}" + (" (Azure Resource Graph)" if graph else "")
    return "live:Azure Resource Graph" if graph else "live:Azure Resource Manager"


def _input_failure(err: Exception, env: Environment) -> ExitStatus | None:
    """The status and one line for a reading input that cannot be used (cloud, recording); None for others."""
    from auditor.collect.replay import RecordingError

    if isinstance(err, _CloudError):
        env.stderr.write(f"port25-audit: {err}\n")
        return ExitStatus.USAGE
    if isinstance(err, RecordingError):
        env.stderr.write(f"port25-audit: {err}\n")
        return ExitStatus.NO_INPUT if err.unreadable else ExitStatus.DATA_ERROR
    return None


def _record(args: Any, env: Environment) -> ExitStatus:
    import json

    from auditor.collect.record import RecordingTransport
    from auditor.collect.scrub import scrub_recording

    _configure_logging(env, args.quiet, args.verbose)
    try:
        # a recording also holds the resource groups' tags: a scan of it with --tag or tag exceptions needs them
        recipe = replace(_recipe(args, env), group_tags=True)
        recorder = RecordingTransport(recipe.transport())
        collector = env.collectors(replace(recipe, transport_factory=lambda: recorder), 1)
    except Exception as err:
        status = _input_failure(err, env)
        if status is None:
            raise
        return status
    with progress_bar(collector.stats, raw_stream(env.stderr), enabled=not args.quiet):
        inventory = collector.collect(_scope(args))
    document = recorder.document()
    if args.scrub:
        scrubbed = scrub_recording(document, args.management_group)
        document = scrubbed.document
        for group, replaced in scrubbed.management_groups.items():
            env.stderr.write(
                f"port25-audit: management group {group} is {replaced} in the scrubbed recording: replay it with "
                f"--management-group {replaced}\n"
            )
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    try:
        write_atomically(args.out.parent, {args.out.name: [text.encode("utf-8")]})
    except OSError as err:
        env.stderr.write(f"port25-audit: cannot write the recording to {args.out}: {err.strerror or err}\n")
        return ExitStatus.CANT_CREATE
    unread = [s for s in inventory.subscriptions if s.errors]
    if not args.quiet:
        env.stderr.write(
            f"port25-audit: recorded {len(document['Entries'])} requests over {len(inventory.subscriptions)} "
            f"subscription(s) to {args.out}" + (", scrubbed" if args.scrub else "") + "\n"
        )
    if inventory.errors or unread:
        env.stderr.write(
            f"port25-audit: the recording is INCOMPLETE: {len(unread)} subscription(s) had lists that could not be "
            "read (their answers are in the recording)\n"
        )
        return ExitStatus.INCOMPLETE
    return ExitStatus.SUCCESS


def _scan(args: Any, env: Environment) -> ExitStatus:
    # imported here, not at the top: --version and --help need neither pandas nor the Azure SDK
    from auditor.audit import (
        HistoryNotKept,
        ScanOptions,
        exit_status,
        run_scan,
        status_lines,
        unused_config_lines,
        write_scan,
    )
    from auditor.report.json import BaselineError, read_baseline

    _configure_logging(env, args.quiet, args.verbose)
    if args.out.exists() and not args.out.is_dir():
        env.stderr.write(
            f"port25-audit: --out {args.out} is a file, not a folder: the reports are a set of files; name a folder "
            "(it is made if it does not exist)\n"
        )
        return ExitStatus.USAGE
    try:
        config, provenance = load_config(args.config) if args.config else (AuditConfig(), None)
    except ConfigError as err:
        env.stderr.write(f"port25-audit: {err}\n")
        return ExitStatus.NO_INPUT if err.unreadable else ExitStatus.USAGE
    try:
        baseline = read_baseline(args.baseline) if args.baseline else None
    except BaselineError as err:
        env.stderr.write(f"port25-audit: baseline {err}\n")
        return ExitStatus.NO_INPUT if err.unreadable else ExitStatus.DATA_ERROR
    try:
        recipe = _recipe(args, env, config)
        if args.upload is not None and not args.upload.serves(recipe.cloud.value):
            env.stderr.write(
                f"port25-audit: --upload {args.upload.container_url} is a blob endpoint of another cloud than the "
                f"scan's ({recipe.cloud.value}); the scan's token is sent only to its own cloud's storage\n"
            )
            return ExitStatus.USAGE
        # Worker processes do not share this process's log handler: --verbose reads in one process, every line shown.
        collector = env.collectors(recipe, 1 if args.verbose else args.processes)
    except Exception as err:
        status = _input_failure(err, env)
        if status is None:
            raise
        return status
    options = ScanOptions(
        collector=collector,
        source=_source_label(args),
        ruleset=Ruleset(args.ruleset),
        scope=_scope(args, config),
        config=config,
        provenance=provenance,
        baseline=baseline,
        history=args.history,
        portal=PORTAL_URLS[recipe.cloud],
        now=env.now,
        tag_names=tuple(args.tag),
    )
    out_existed = args.out.exists()
    with ExitStack() as held:
        try:
            held.enter_context(reports_lock(args.out))
        except ReportsLocked as err:
            env.stderr.write(f"port25-audit: {err.strerror}\n")
            return ExitStatus.CANT_CREATE
        except OSError as err:
            env.stderr.write(f"port25-audit: cannot write the reports to {args.out}: {err.strerror or err}\n")
            return ExitStatus.CANT_CREATE
        with progress_bar(collector.stats, raw_stream(env.stderr), enabled=not args.quiet):
            result = run_scan(options)
        if result.nothing_audited:
            # last week's reports stay: an empty set in their place would read as a result
            if not out_existed:
                with suppress(OSError):
                    args.out.rmdir()  # made for the lock, and still empty
            for line in status_lines(result, args.fail_on, Auth(args.auth)):
                env.stderr.write(f"port25-audit: {line}\n")
            return exit_status(result, args.fail_on)
        for line in unused_config_lines(config, result, args.config):
            env.stderr.write(f"port25-audit: {line}\n")
        try:
            written = write_scan(result, args.out, args.format, args.history)
        except HistoryNotKept as err:
            env.stderr.write(
                f"port25-audit: the reports are in {args.out}, but this run could not be kept in the --history folder "
                f"{err.folder}: {err.strerror}\n"
            )
            return ExitStatus.CANT_CREATE
        except OSError as err:
            env.stderr.write(f"port25-audit: cannot write the reports to {args.out}: {err.strerror or err}\n")
            return ExitStatus.CANT_CREATE
    if not args.quiet:
        print_summary(result, written, env.stdout)
        if args.source == Source.GRAPH:
            env.stderr.write(
                "port25-audit: read through Azure Resource Graph, which leaves out what the identity cannot read "
                "without saying so; --source arm (the default) names every list it could not read.\n"
            )
    for line in status_lines(result, args.fail_on, Auth(args.auth)):
        env.stderr.write(f"port25-audit: {line}\n")
    if args.upload is not None:
        run = result.metadata.started.strftime("%Y-%m-%dT%H-%M-%SZ")
        try:
            names = env.uploads(written, args.upload, run, recipe)
        except Exception as err:  # an upload that fails leaves the local reports as they are
            said = " ".join(str(err).split())[:300] or type(err).__name__
            env.stderr.write(
                f"port25-audit: the reports are in {args.out}, but uploading them to {args.upload.container_url} "
                f"failed: {type(err).__name__}: {said}\n"
            )
            return ExitStatus.CANT_CREATE
        if not args.quiet:
            where = args.upload.blob_name(run)
            env.stderr.write(
                f"port25-audit: uploaded {len(names) // 2} file(s) to {args.upload.container_url}/{where}/ and "
                f"{args.upload.blob_name('latest')}/\n"
            )
    return exit_status(result, args.fail_on)
