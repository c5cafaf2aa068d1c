"""App Service and Functions apps: which way to the internet an app has (App Service's own addresses, regional VNet
integration routed into a subnet, an App Service Environment v3), read from what its payload and config/web say."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.classify.rules import AppPath
from auditor.model import AppServiceEnvironment, Resource, name_of, subscription_of


@dataclass(frozen=True)
class AppRoute:
    """An app's way to the internet: which path the rules know it by, whose subscription's rule applies (the
    VNet's), the note the finding says, and the subnet its traffic enters."""

    path: AppPath
    via_subscription: str | None
    note: str
    subnet_id: str | None = None


def app_route(  # noqa: PLR0911 (one return a way an app can have: the table reads top to bottom)
    resource: Resource, environments: Mapping[str, AppServiceEnvironment]
) -> AppRoute:
    """How an App Service / Functions app's outbound traffic can carry TCP 25, and through which subnet."""
    app = resource.app
    if app is None:
        return AppRoute(AppPath.UNKNOWN, None, "The app's networking was not collected.")
    if app.environment_id:
        environment = environments.get(app.environment_id.lower())
        if environment is None:
            return AppRoute(
                AppPath.UNKNOWN,
                None,
                f"It runs on App Service Environment {name_of(app.environment_id)}, which was not collected.",
            )
        if not environment.is_v3:
            return AppRoute(
                AppPath.NONE,
                None,
                f"It runs on App Service Environment {environment.name} of kind "
                f"{environment.kind or 'unknown'}, not v3.",
            )
        via = subscription_of(environment.subnet_id) or subscription_of(environment.environment_id)
        return AppRoute(
            AppPath.ASE_V3, via, f"It runs on App Service Environment v3 {environment.name}.", environment.subnet_id
        )
    if not app.subnet_id:
        return AppRoute(
            AppPath.NONE, None, "It has no regional VNet integration and is not on an App Service Environment."
        )
    if app.config_unread:
        return AppRoute(
            AppPath.UNKNOWN,
            None,
            f"It is integrated with subnet {name_of(app.subnet_id)}; whether its outbound traffic is routed "
            f"into the VNet is said by its web config, which could not be read ({app.config_unread}).",
        )
    if app.routes_app_traffic is None:
        return AppRoute(
            AppPath.UNKNOWN,
            None,
            f"It is integrated with subnet {name_of(app.subnet_id)}, but whether its outbound traffic is "
            "routed into the VNet could not be read.",
        )
    if not app.routes_app_traffic:
        return AppRoute(
            AppPath.NONE,
            None,
            f"It is integrated with subnet {name_of(app.subnet_id)}, but its setting to route outbound "
            "traffic into the VNet is off.",
        )
    said = "; its settings disagree, and routed is the reading with more exposure" if app.routing_disagrees else ""
    return AppRoute(
        AppPath.VNET_INTEGRATION,
        subscription_of(app.subnet_id),
        f"Its outbound traffic is routed into subnet {name_of(app.subnet_id)} (regional VNet integration{said}).",
        app.subnet_id,
    )
