"""What ``kubectl apply -k deploy/kubernetes`` would send, read without a cluster or kustomize.

:func:`render` builds the kustomization the way kustomize does for the features it uses (plain
resource files, ``namespace``, ``images``, a ``secretGenerator`` without name hash) and refuses
any other feature, so a new one cannot be silently ignored by the tests: teach it here (and
``test_render_matches_kustomize`` checks the result against the real kustomize where ``kubectl``
is installed). Also: the Dockerfile's instructions, and the environment a container starts with.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
KUSTOMIZATION_DIR = DEPLOY / "kubernetes"
DOCKERFILE = REPO / "Dockerfile"
SECRETS_EXAMPLE_SUFFIX = ".example"

Resource = dict[str, Any]

# Kinds kustomize does not give a namespace to (the ones these manifests could plausibly use).
CLUSTER_SCOPED = {
    "Namespace",
    "PersistentVolume",
    "StorageClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "CustomResourceDefinition",
    "APIService",
}
_SUPPORTED_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "secretGenerator"}
_GENERATOR_KEYS = {"name", "envs", "literals", "type", "options"}


class UnsupportedKustomization(Exception):
    """The kustomization uses a feature :func:`render` does not emulate."""


def load_yaml_documents(path: Path) -> list[Resource]:
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def kustomization(directory: Path = KUSTOMIZATION_DIR) -> Resource:
    (doc,) = load_yaml_documents(directory / "kustomization.yaml")
    return dict(doc)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as kustomize reads them for a generator's ``envs`` (no quoting)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise ValueError(f"{path.name}:{number}: expected KEY=VALUE")
        values[key] = value
    return values


def _env_source(directory: Path, name: str, secrets: dict[str, Path] | None) -> Path:
    if secrets and name in secrets:
        return secrets[name]
    path = directory / name
    if path.exists():
        return path
    example = directory / (name + SECRETS_EXAMPLE_SUFFIX)
    if example.exists():  # the file the operator writes is not in the repository
        return example
    raise FileNotFoundError(path)


def _generated_secret(directory: Path, spec: Resource, secrets: dict[str, Path] | None) -> Resource:
    unknown = set(spec) - _GENERATOR_KEYS
    if unknown:
        raise UnsupportedKustomization(f"secretGenerator keys {sorted(unknown)}")
    options = spec.get("options") or {}
    if set(options) - {"disableNameSuffixHash"} or not options.get("disableNameSuffixHash"):
        raise UnsupportedKustomization("secretGenerator needs disableNameSuffixHash: true")
    values: dict[str, str] = {}
    for name in spec.get("envs") or []:
        values.update(read_env_file(_env_source(directory, name, secrets)))
    for literal in spec.get("literals") or []:
        key, _, value = str(literal).partition("=")
        values[key] = value
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": spec["name"]},
        "type": spec.get("type", "Opaque"),
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()},
    }


def _set_images(resource: Resource, images: list[Resource]) -> None:
    for container in pod_containers(resource, init=True):
        name, _, tag = str(container.get("image", "")).partition(":")
        for image in images:
            if image["name"] != name:
                continue
            new_name = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new_name}@{image['digest']}"
            else:
                container["image"] = f"{new_name}:{image.get('newTag', tag)}"


def render(
    directory: Path = KUSTOMIZATION_DIR, secrets: dict[str, Path] | None = None
) -> list[Resource]:
    """The resources of the kustomization; ``secrets`` maps a generator's env file name to the
    file to read instead (else the file itself, else its ``.example``)."""
    spec = kustomization(directory)
    unknown = set(spec) - _SUPPORTED_KEYS
    if unknown:
        raise UnsupportedKustomization(f"kustomization keys {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in spec.get("resources") or []:
        path = directory / entry
        if not path.is_file():
            raise UnsupportedKustomization(f"resource {entry} is not a file in {directory}")
        resources.extend(load_yaml_documents(path))
    resources.extend(
        _generated_secret(directory, generator, secrets)
        for generator in spec.get("secretGenerator") or []
    )
    namespace = spec.get("namespace")
    for resource in resources:
        if namespace and resource["kind"] not in CLUSTER_SCOPED:
            resource.setdefault("metadata", {})["namespace"] = namespace
        _set_images(resource, spec.get("images") or [])
    return resources


def manifest_files(directory: Path = KUSTOMIZATION_DIR) -> set[str]:
    return {
        path.name
        for path in directory.iterdir()
        if path.suffix in {".yaml", ".yml"} and path.name != "kustomization.yaml"
    }


# -- reading resources --------------------------------------------------------------------------


def key(resource: Resource) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def named(resources: list[Resource], kind: str, name: str) -> Resource:
    (found,) = [r for r in by_kind(resources, kind) if r["metadata"]["name"] == name]
    return found


def pod_spec(resource: Resource) -> Resource | None:
    """The pod template's spec of a workload, None for anything else."""
    spec: Resource | None = None
    if resource["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        spec = resource["spec"]["template"]["spec"]
    elif resource["kind"] == "CronJob":
        spec = resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    elif resource["kind"] == "Pod":
        spec = resource["spec"]
    return spec


def pod_labels(resource: Resource) -> dict[str, str]:
    labels: dict[str, str] = resource["spec"]["template"]["metadata"].get("labels", {})
    return labels


def pod_containers(resource: Resource, *, init: bool = False) -> list[Resource]:
    spec = pod_spec(resource)
    if spec is None:
        return []
    containers: list[Resource] = list(spec.get("containers", []))
    if init:
        containers += spec.get("initContainers", [])
    return containers


def workloads(resources: list[Resource]) -> Iterator[tuple[Resource, Resource]]:
    """(workload, container) for every container of every pod template."""
    for resource in resources:
        for container in pod_containers(resource, init=True):
            yield resource, container


def selects(selector: Resource, labels: dict[str, str]) -> bool:
    """A label selector (matchLabels/matchExpressions, or a Service's plain map) matches."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        selector = {"matchLabels": selector}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator, values = expression["operator"], expression.get("values", [])
        ok = {
            "In": present and value in values,
            "NotIn": not present or value not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not ok:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def probes(container: Resource) -> dict[str, Resource]:
    return {
        kind: container[kind]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
        if kind in container
    }


def decoded_secret(secret: Resource) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def container_env(
    resources: list[Resource], container: Resource, dockerfile: Dockerfile | None = None
) -> dict[str, str]:
    """The environment the container's process starts with: the image's ENV, then envFrom in
    order, then env (literal values and references)."""
    dockerfile = dockerfile or Dockerfile.read()
    env = dict(dockerfile.env)
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            data = named(resources, "ConfigMap", source["configMapRef"]["name"]).get("data", {})
        else:
            data = decoded_secret(named(resources, "Secret", source["secretRef"]["name"]))
        env.update({prefix + k: str(v) for k, v in data.items()})
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
        elif "configMapKeyRef" in (variable.get("valueFrom") or {}):
            ref = variable["valueFrom"]["configMapKeyRef"]
            env[variable["name"]] = str(
                named(resources, "ConfigMap", ref["name"])["data"][ref["key"]]
            )
        elif "secretKeyRef" in (variable.get("valueFrom") or {}):
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = decoded_secret(named(resources, "Secret", ref["name"]))[
                ref["key"]
            ]
    return env


def prestop_sleep_seconds(container: Resource) -> float:
    """The preStop hook's ``sleep N`` (or sleep action), 0 without one."""
    hook = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in hook:
        return float(hook["sleep"]["seconds"])
    command = (hook.get("exec") or {}).get("command") or []
    if command[:1] == ["sleep"] and len(command) == 2:
        return float(command[1])
    if hook:
        raise AssertionError(f"a preStop hook the tests cannot time: {json.dumps(hook)}")
    return 0.0


# -- the Dockerfile ------------------------------------------------------------------------------


@dataclass
class Dockerfile:
    env: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    expose: set[int] = field(default_factory=set)
    user: str = ""
    uids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path = DOCKERFILE) -> Dockerfile:
        text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
        parsed = cls()
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            instruction, _, rest = line.partition(" ")
            instruction, rest = instruction.upper(), rest.strip()
            if instruction == "ENV":
                for word in shlex.split(rest):
                    name, _, value = word.partition("=")
                    parsed.env[name] = value
            elif instruction in {"ENTRYPOINT", "CMD"}:
                words = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
                setattr(parsed, instruction.lower(), words)
            elif instruction == "EXPOSE":
                parsed.expose |= {int(port.split("/")[0]) for port in rest.split()}
            elif instruction == "USER":
                parsed.user = rest
            elif instruction == "RUN":
                for match in re.finditer(
                    r"useradd\b[^&;|]*?--uid (\d+)[^&;|]*?\s(\S+)\s*(?:&&|$)", rest
                ):
                    parsed.uids[match.group(2)] = int(match.group(1))
        return parsed
