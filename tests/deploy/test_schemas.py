"""Every resource ``kubectl apply -k deploy/kubernetes`` sends validates against the Kubernetes
OpenAPI schemas of the versions we support, strictly (an unknown or misspelt field fails), with
the schemas that the ``kubernetes-validate`` package bundles: nothing is downloaded."""

from __future__ import annotations

import copy
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]

from tests.deploy.manifests import (
    DEPLOY,
    KUSTOMIZATION_DIR,
    Resource,
    key,
    kustomization,
    manifest_files,
    render,
)

# The oldest Kubernetes the manifests support (PodDisruptionBudget unhealthyPodEvictionPolicy is
# GA in 1.31), and the newest whose schemas the pinned kubernetes-validate bundles.
KUBERNETES_VERSIONS = ("1.31", "1.37")
RESOURCES = render()


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("resource", RESOURCES, ids=key)
def test_resource_matches_the_kubernetes_schema(
    resource: Resource, version: str, offline: list[Any]
) -> None:
    # Raises on a schema violation, and SchemaNotFoundError for a kind it has no schema for (a
    # custom resource needs a schema of its own, vendored under tests/deploy).
    validated = kubernetes_validate.validate(resource, version, strict=True)
    assert validated == version, f"schemas for {version} are not bundled (got {validated})"
    assert offline == []


def test_validation_is_strict_and_offline(offline: list[Any]) -> None:
    deployment = copy.deepcopy(next(r for r in RESOURCES if r["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    unknown = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(unknown, KUBERNETES_VERSIONS[0], strict=True)
    assert offline == []


def test_the_offline_guard_refuses_the_network(offline: list[Any]) -> None:
    with pytest.raises(OSError, match="tests/deploy: no"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1
    with pytest.raises(OSError, match="tests/deploy: no"):
        socket.create_connection(("kubernetesjsonschema.dev", 443), timeout=1)
    assert len(offline) == 2


def test_every_manifest_file_is_in_the_kustomization() -> None:
    listed = set(kustomization()["resources"])
    assert manifest_files() == listed, "a manifest not applied, or applied but missing"


def test_resource_names_are_unique() -> None:
    keys = [(r["metadata"].get("namespace"), key(r)) for r in RESOURCES]
    assert len(keys) == len(set(keys))


def test_prometheus_snippets_are_yaml() -> None:
    for path in sorted((DEPLOY / "prometheus").glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            assert yaml.safe_load(handle), path.name


def _canonical(resources: list[Resource]) -> dict[str, Resource]:
    return {f"{r['metadata'].get('namespace')}/{key(r)}": r for r in resources}


def test_render_matches_kustomize(tmp_path: Path) -> None:
    """The tests' reading of the kustomization is kustomize's (where kubectl is installed)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    work = tmp_path / "kubernetes"
    shutil.copytree(KUSTOMIZATION_DIR, work)
    for example in work.glob("*.example"):
        shutil.copy(example, work / example.stem)  # the file the operator writes
    built = subprocess.run(
        [kubectl, "kustomize", str(work)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    real = [doc for doc in yaml.safe_load_all(built) if doc]
    # kustomize wraps long base64 values over lines; the decoded bytes are what count.
    for doc in real:
        for name, value in (doc.get("data") or {}).items():
            if doc["kind"] == "Secret":
                doc["data"][name] = "".join(value.split())
    assert _canonical(real) == _canonical(render(work))
