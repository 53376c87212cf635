"""The template ``chalice package`` would write, built offline in under a second.

``chalice package`` runs Chalice's build stage — pip downloads Lambda wheels and zips them — and then
its SAM template generator. The template does not depend on the zip's contents, only on its name,
so this runs the same generator with the build stage minus the packaging step, names the zip as
``chalice package`` does (``./deployment.zip``) and merges with Chalice's own merger. Compared with a
real ``build/dev/sam.json`` (Chalice 1.34) the result was identical; the one possible difference is
the service principals, fixed here to ``<service>.amazonaws.com`` (what every commercial region uses)
where Chalice asks botocore for the region's. Tests and ``make deploy DRY_RUN=1`` lint it offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from chalice.cli.factory import CLIFactory
from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
from chalice.deploy.deployer import BaseDeployStep, BuildStage, InjectDefaults, SwaggerBuilder
from chalice.deploy.swagger import CFNSwaggerGenerator
from chalice.package import PackageOptions, SAMTemplateGenerator, TemplateDeepMerger

from infra.build import ROOT, merge_template
from infra.policies import Doc

CODE_URI = "./deployment.zip"
"""Where ``chalice package`` leaves the bundle, relative to the template."""


class _NamedPackage(BaseDeployStep):
    """Stands in for Chalice's packager: names the zip instead of building it."""

    def handle_deploymentpackage(self, config: Any, resource: Any) -> None:
        resource.filename = CODE_URI


class _Principals:
    """Chalice's PackageOptions without a boto session (no credentials, no region needed)."""

    def service_principal(self, service: str) -> str:
        return f"{service}.amazonaws.com"


def chalice_template(stage: str, project_dir: Path = ROOT) -> Doc:
    """Chalice's SAM template for ``stage``, as ``chalice package`` generates it, before the merge."""
    config = CLIFactory(str(project_dir), environ={}).create_config_obj(stage)
    application = ApplicationGraphBuilder().build(config, stage)
    dependencies = DependencyBuilder()
    resources = dependencies.build_dependencies(application)
    BuildStage([InjectDefaults(), _NamedPackage(), SwaggerBuilder(CFNSwaggerGenerator())]).execute(
        config, resources
    )
    template: Doc = SAMTemplateGenerator(config, cast(PackageOptions, _Principals())).generate(
        dependencies.build_dependencies(application)
    )
    return template


def merged_template(stage: str, project_dir: Path = ROOT) -> Doc:
    """The ONE template ``make package`` produces for ``stage`` (with a placeholder bundle)."""
    merged: Doc = TemplateDeepMerger().merge(merge_template(stage), chalice_template(stage, project_dir))
    return merged
