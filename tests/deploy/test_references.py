"""The manifests agree with each other, with the Dockerfile and with the service's code: what one
resource names exists, ports and probes line up, settings are ones radqc knows, and the
autoscaling chain (API /metrics -> Prometheus -> prometheus-adapter -> HPA -> Deployment) holds
together."""

from __future__ import annotations

import inspect
import os
import re
import tomllib
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from fastapi.routing import APIRoute
from pydantic import ValidationError

from dicom_listener.server import StorageSCP
from service import cli, supervisor
from service.api import collectors, health
from service.config import Settings
from tests.conftest import REPO
from tests.deploy.manifests import (
    DEPLOY,
    KUSTOMIZATION_DIR,
    Dockerfile,
    Resource,
    by_kind,
    container_env,
    key,
    kustomization,
    named,
    pod_containers,
    pod_labels,
    pod_spec,
    prestop_sleep_seconds,
    probes,
    read_env_file,
    selects,
    workloads,
)

# The radqc command each workload runs (DESIGN §9: one image, one command per part).
ROLES = {
    "Deployment/radqc-api": "api",
    "Deployment/radqc-listener": "listen",
    "Deployment/radqc-worker": "worker",
    "Job/radqc-migrate": "migrate",
    "CronJob/radqc-retention": "retention",
}
# Containers that run for good need both probes; these may lack one, for the reason given.
PROBE_EXEMPT = {
    ("Deployment/radqc-worker", "worker", "livenessProbe"): (
        "a worker serves no port and leaves no heartbeat a probe could read: nothing tells a "
        "stuck worker from a busy one (see deploy/README.md)"
    ),
}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}


def long_running(resources: list[Resource]) -> list[tuple[Resource, Resource]]:
    return [(w, c) for w, c in workloads(resources) if w["kind"] in LONG_RUNNING]


def settings_for(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings radqc reads from exactly this environment (no .env file)."""
    for name in [n for n in os.environ if n.startswith("RADQC_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


# -- Services, selectors, ports -----------------------------------------------------------------


def _port_names(container: Resource) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}


def test_every_service_selects_one_deployment_and_a_named_port(resources: list[Resource]) -> None:
    deployments = by_kind(resources, "Deployment")
    services = by_kind(resources, "Service")
    assert services
    for service in services:
        selector = service["spec"]["selector"]
        chosen = [d for d in deployments if selects(selector, pod_labels(d))]
        assert len(chosen) == 1, f"{key(service)} selects {[key(d) for d in chosen]}"
        ports = {n: p for c in pod_containers(chosen[0]) for n, p in _port_names(c).items()}
        for port in service["spec"]["ports"]:
            target = port["targetPort"]
            assert isinstance(target, str), f"{key(service)}: target ports by name"
            assert target in ports, f"{key(service)}: {target} is not a port of {key(chosen[0])}"
            assert port["name"] == target, f"{key(service)}: port name {port['name']} != {target}"


def test_container_ports_are_named_the_same_everywhere(
    resources: list[Resource], dockerfile: Dockerfile
) -> None:
    names: dict[int, set[str]] = {}
    for workload, container in workloads(resources):
        declared = container.get("ports", [])
        assert all("name" in p for p in declared), f"{key(workload)}: unnamed port"
        assert len({p["name"] for p in declared}) == len(declared)
        for port in declared:
            names.setdefault(port["containerPort"], set()).add(port["name"])
            assert port["containerPort"] in dockerfile.expose, "the Dockerfile EXPOSEs it"
    assert all(len(n) == 1 for n in names.values()), names
    assert names == {8080: {"http"}, 11112: {"dicom"}}


def test_ports_are_the_ones_radqc_listens_on(
    configured: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container ports are the ports the process binds, on every interface of the pod."""
    for workload, container in long_running(configured):
        settings = settings_for(container_env(configured, container), monkeypatch)
        ports = _port_names(container)
        if "http" in ports:
            assert ports["http"] == settings.http_port
            assert settings.http_host == "0.0.0.0"
        if "dicom" in ports:
            assert ports["dicom"] == settings.dicom_port
            assert settings.dicom_host == "0.0.0.0"
        assert set(ports) <= {"http", "dicom"}, key(workload)


# -- probes -------------------------------------------------------------------------------------


def test_long_running_containers_have_readiness_and_liveness_probes(
    resources: list[Resource],
) -> None:
    checked = 0
    for workload, container in long_running(resources):
        present = probes(container)
        for kind in ("readinessProbe", "livenessProbe"):
            exempt = PROBE_EXEMPT.get((key(workload), container["name"], kind))
            assert (kind in present) != bool(exempt), (
                f"{key(workload)}/{container['name']}: {kind} "
                + ("present although exempt: drop the exemption" if exempt else "missing")
            )
            checked += 1
    assert checked == 6


def test_probes_point_at_declared_ports_and_open_routes(resources: list[Resource]) -> None:
    routes = {route.path: route for route in health.router.routes if isinstance(route, APIRoute)}
    for workload, container in long_running(resources):
        ports = _port_names(container)
        for kind, probe in probes(container).items():
            where = f"{key(workload)}/{container['name']} {kind}"
            handler = probe.get("httpGet") or probe.get("tcpSocket")
            if handler is None:
                assert "exec" in probe, where
                assert probe["exec"]["command"][0] == "python", "the image's interpreter"
                continue
            port = handler["port"]
            assert port in ports if isinstance(port, str) else port in ports.values(), where
            if "httpGet" in probe:
                route = routes.get(handler["path"])
                assert route is not None, f"{where}: no route {handler['path']}"
                assert route.dependant.dependencies == [], f"{where}: the route needs a token"
            assert probe.get("timeoutSeconds", 1) >= 1


def test_readiness_waits_longer_than_the_database_check(resources: list[Resource]) -> None:
    api = named(resources, "Deployment", "radqc-api")
    (container,) = pod_containers(api)
    readiness = container["readinessProbe"]
    assert readiness["httpGet"]["path"] == "/readyz"
    assert readiness["timeoutSeconds"] > health.CHECK_TIMEOUT_SECONDS
    # Liveness never depends on the database: /healthz only.
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_processes_that_migrate_first_get_a_startup_budget(resources: list[Resource]) -> None:
    """`radqc api` and `radqc listen` apply migrations before they serve: liveness must not
    restart them meanwhile."""
    for name in ("radqc-api", "radqc-listener"):
        (container,) = pod_containers(named(resources, "Deployment", name))
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 300, name


def probe_ae_title(resources: list[Resource]) -> str:
    (listener,) = pod_containers(named(resources, "Deployment", "radqc-listener"))
    script = listener["livenessProbe"]["exec"]["command"][-1]
    match = re.search(r'AE\(ae_title="([^"]+)"\)', script)
    assert match, "the liveness probe names its calling AE title"
    return match.group(1)


def test_the_ae_allow_list_lets_the_liveness_probe_in(resources: list[Resource]) -> None:
    allowed = named(resources, "ConfigMap", "radqc-config")["data"]["RADQC_DICOM_ALLOWED_AE_TITLES"]
    titles = [t.strip() for t in allowed.split(",") if t.strip()]
    assert not titles or probe_ae_title(resources) in titles


# -- shutdown budgets ---------------------------------------------------------------------------


def _default(function: Any, parameter: str) -> float:
    return float(inspect.signature(function).parameters[parameter].default)


def listener_drain_seconds(processes: int) -> float:
    """Worst case from SIGTERM to exit of `radqc listen` (service/cli.py cmd_listen): the other
    listener processes drain first (in parallel, each waited for at most the supervisor's
    timeout), then this one: the Storage SCP waits for associations in progress, then aborts the
    rest and joins them (5 s) and the orphan sweeper (5 s)."""
    one = _default(StorageSCP.stop, "timeout") + 5 + 5
    if processes == 1:
        return one
    return min(_default(supervisor.Supervisor.stop, "timeout"), one) + one


def test_the_listener_drains_within_its_termination_grace_period(
    configured: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    listener = named(configured, "Deployment", "radqc-listener")
    (container,) = pod_containers(listener)
    settings = settings_for(container_env(configured, container), monkeypatch)
    grace = pod_spec(listener)["terminationGracePeriodSeconds"]  # type: ignore[index]
    budget = prestop_sleep_seconds(container) + listener_drain_seconds(
        settings.dicom_listener_processes
    )
    assert prestop_sleep_seconds(container) >= 5, "endpoint removal must propagate first"
    assert budget + 5 <= grace, f"drain budget {budget:.0f} s, grace period {grace} s"
    # The documented headroom: two processes per pod still fit.
    assert prestop_sleep_seconds(container) + listener_drain_seconds(2) <= grace


def test_pre_stop_hooks_leave_time_to_shut_down(resources: list[Resource]) -> None:
    for workload, container in long_running(resources):
        grace = pod_spec(workload).get("terminationGracePeriodSeconds", 30)  # type: ignore[union-attr]
        assert prestop_sleep_seconds(container) * 2 <= grace, key(workload)


# -- configuration references -------------------------------------------------------------------


def _references(spec: Resource) -> set[tuple[str, str]]:
    refs: set[tuple[str, str]] = set()
    for container in spec.get("containers", []) + spec.get("initContainers", []):
        for source in container.get("envFrom", []):
            if "configMapRef" in source and not source["configMapRef"].get("optional"):
                refs.add(("ConfigMap", source["configMapRef"]["name"]))
            if "secretRef" in source and not source["secretRef"].get("optional"):
                refs.add(("Secret", source["secretRef"]["name"]))
        for variable in container.get("env", []):
            for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                ref = (variable.get("valueFrom") or {}).get(field)
                if ref and not ref.get("optional"):
                    refs.add((kind, ref["name"]))
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            refs.add(("ConfigMap", volume["configMap"]["name"]))
        if "secret" in volume:
            refs.add(("Secret", volume["secret"]["secretName"]))
        if "persistentVolumeClaim" in volume:
            refs.add(("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]))
    return refs


def test_every_referenced_configmap_secret_and_claim_exists(resources: list[Resource]) -> None:
    existing = {
        (r["kind"], r["metadata"]["name"], r["metadata"].get("namespace")) for r in resources
    }
    seen = set()
    for workload in resources:
        spec = pod_spec(workload)
        if spec is None:
            continue
        for kind, name in _references(spec):
            seen.add(kind)
            assert (kind, name, workload["metadata"]["namespace"]) in existing, (
                f"{key(workload)} refers to {kind}/{name}, which is not in its namespace"
            )
    assert seen == {"ConfigMap", "Secret", "PersistentVolumeClaim"}


def test_long_running_pods_share_the_data_volume_at_the_data_dir(
    configured: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = set()
    for workload, container in long_running(configured):
        data_dir = settings_for(container_env(configured, container), monkeypatch).data_dir
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert str(data_dir) in mounts, f"{key(workload)}: RADQC_DATA_DIR is not the volume"
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}  # type: ignore[index]
        claims.add(volumes[mounts[str(data_dir)]]["persistentVolumeClaim"]["claimName"])
    assert len(claims) == 1, "listeners store, workers read: one shared volume"
    (claim,) = claims
    pvc = named(configured, "PersistentVolumeClaim", claim)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_retention_runs_nightly_one_at_a_time_on_the_shared_volume(
    configured: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retention CronJob deletes the files the listeners store: it must mount the same
    claim at RADQC_DATA_DIR, never overlap itself, and read a policy `radqc retention` accepts."""
    cron = named(configured, "CronJob", "radqc-retention")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = pod_containers(cron)
    settings = settings_for(container_env(configured, container), monkeypatch)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec(cron)["volumes"]}  # type: ignore[index]
    claim = volumes[mounts[str(settings.data_dir)]]["persistentVolumeClaim"]["claimName"]
    (listener,) = pod_containers(named(configured, "Deployment", "radqc-listener"))
    listener_mounts = {m["mountPath"]: m["name"] for m in listener["volumeMounts"]}
    listener_spec = pod_spec(named(configured, "Deployment", "radqc-listener"))
    listener_volumes = {v["name"]: v for v in listener_spec["volumes"]}  # type: ignore[index]
    listener_volume = listener_volumes[listener_mounts[str(settings.data_dir)]]
    assert claim == listener_volume["persistentVolumeClaim"]["claimName"]
    high, low = settings.retention_disk_high_percent, settings.retention_disk_low_percent
    assert settings.retention_job_days > 0 and (not high or low < high)


def test_every_setting_is_one_radqc_knows(resources: list[Resource]) -> None:
    known = {f"RADQC_{name.upper()}" for name in Settings.model_fields}
    config = named(resources, "ConfigMap", "radqc-config")["data"]
    secrets = read_env_file(KUSTOMIZATION_DIR / "secrets.env.example")
    for name in [*config, *secrets]:
        assert name in known, f"{name} is not a radqc setting (misspelt?)"


def test_the_configuration_is_valid_with_real_secrets(
    configured: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    for _workload, container in workloads(configured):
        settings_for(container_env(configured, container), monkeypatch)  # raises if invalid


def test_the_example_secrets_are_refused(
    resources: list[Resource], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Applied as shipped, radqc does not start: the placeholders are not tokens."""
    (container,) = pod_containers(named(resources, "Deployment", "radqc-api"))
    with pytest.raises(ValidationError, match="api_tokens"):
        settings_for(container_env(resources, container), monkeypatch)


def test_real_secrets_are_not_in_the_repository() -> None:
    ignored = (DEPLOY / "kubernetes" / ".gitignore").read_text(encoding="utf-8").split()
    generated = [
        name
        for generator in kustomization().get("secretGenerator", [])
        for name in generator.get("envs", [])
    ]
    assert generated
    assert set(generated) <= set(ignored), "the env files with real secrets are git-ignored"


# -- image and command --------------------------------------------------------------------------


def test_every_container_runs_the_image_of_this_release(
    resources: list[Resource], dockerfile: Dockerfile
) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    images = {container["image"] for _w, container in workloads(resources)}
    assert len(images) == 1, "one image for every role"
    (image,) = images
    # radqc:<version>, or the same in a registry (kustomization images: newName).
    assert re.fullmatch(rf"(?:[^@]+/)?radqc:{re.escape(version)}", image), image


def test_every_workload_runs_its_radqc_command(
    resources: list[Resource], dockerfile: Dockerfile
) -> None:
    assert dockerfile.entrypoint == ["radqc"]
    roles = {}
    for workload, container in workloads(resources):
        assert container.get("command", dockerfile.entrypoint) == dockerfile.entrypoint
        args = container["args"]
        parsed = cli._parser().parse_args(args)  # exits (SystemExit) on an unknown command
        assert parsed.command in cli.COMMANDS
        roles[key(workload)] = parsed.command
    assert roles == ROLES


def test_pods_run_as_the_image_user(resources: list[Resource], dockerfile: Dockerfile) -> None:
    uid = dockerfile.uids[dockerfile.user]
    for workload in resources:
        spec = pod_spec(workload)
        if spec is None:
            continue
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] == uid, key(workload)
        if any(v.get("persistentVolumeClaim") for v in spec.get("volumes", [])):
            assert context["fsGroup"] == context["runAsGroup"], "the volume is writable"
        for container in spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_every_container_requests_resources(resources: list[Resource]) -> None:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}

    def size(value: str) -> int:
        number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", value).groups()  # type: ignore[union-attr]
        return int(number) * units[unit]

    for workload, container in workloads(resources):
        where = f"{key(workload)}/{container['name']}"
        requests = container["resources"]["requests"]
        limits = container["resources"]["limits"]
        assert {"cpu", "memory"} <= set(requests), where
        assert size(limits["memory"]) >= size(requests["memory"]), where
        assert "cpu" not in limits, f"{where}: CPU limits only throttle (deploy/README.md)"


# -- availability and autoscaling ---------------------------------------------------------------


def test_every_deployment_has_a_disruption_budget_that_allows_drains(
    resources: list[Resource],
) -> None:
    budgets = by_kind(resources, "PodDisruptionBudget")
    scaled = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in by_kind(resources, "HorizontalPodAutoscaler")
    }
    for deployment in by_kind(resources, "Deployment"):
        mine = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(deployment))]
        assert len(mine) == 1, f"{key(deployment)}: {len(mine)} budgets"
        spec = mine[0]["spec"]
        name = deployment["metadata"]["name"]
        replicas = (
            scaled[name]["spec"]["minReplicas"]
            if name in scaled
            else deployment["spec"]["replicas"]
        )
        assert replicas >= 2, f"{key(deployment)}: one pod cannot be disrupted safely"
        if "maxUnavailable" in spec:
            assert spec["maxUnavailable"] >= 1
        else:
            assert spec["minAvailable"] < replicas, "the budget would block every drain"
        assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert len(budgets) == len(by_kind(resources, "Deployment"))


def test_spread_constraints_select_their_own_pods(resources: list[Resource]) -> None:
    for deployment in by_kind(resources, "Deployment"):
        constraints = pod_spec(deployment).get("topologySpreadConstraints", [])  # type: ignore[union-attr]
        assert constraints, key(deployment)
        for constraint in constraints:
            assert selects(constraint["labelSelector"], pod_labels(deployment))


def test_the_autoscaler_scales_the_workers(resources: list[Resource]) -> None:
    (hpa,) = by_kind(resources, "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    deployment = named(resources, target["kind"], target["name"])
    assert target["apiVersion"] == deployment["apiVersion"]
    assert ROLES[key(deployment)] == "worker"
    assert "replicas" not in deployment["spec"], "kubectl apply would reset the HPA's count"
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    assert metric["external"]["target"]["type"] == "AverageValue"


def _exported_metrics() -> set[str]:
    counts = collectors.DatabaseCounts(items={}, flagged={}, jobs={}, findings={})
    return {family.name for family in collectors.DatabaseCollector(counts).collect()}


def test_the_queue_depth_metric_reaches_the_autoscaler(resources: list[Resource]) -> None:
    """API /metrics exports it -> Prometheus scrapes the API -> prometheus-adapter serves it
    under the name the HPA asks for."""
    (hpa,) = by_kind(resources, "HorizontalPodAutoscaler")
    wanted = hpa["spec"]["metrics"][0]["external"]["metric"]["name"]

    adapter = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-adapter-values.yaml").read_text())
    rules = [r for r in adapter["rules"]["external"] if r["name"]["as"] == wanted]
    assert len(rules) == 1, f"no prometheus-adapter rule serves {wanted}"
    series = re.match(r"\s*(\w+)", rules[0]["seriesQuery"]).group(1)  # type: ignore[union-attr]
    assert series in _exported_metrics(), f"radqc exports no {series}"
    assert series == "radqc_queue_depth"
    # Each API pod reports the same database count: the query must not add them up.
    assert re.match(r"\s*max\b", rules[0]["metricsQuery"])
    assert rules[0]["resources"]["overrides"]["namespace"] == {"resource": "namespace"}

    scrape = yaml.safe_load((DEPLOY / "prometheus" / "scrape-config.yaml").read_text())
    (job,) = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer", "/metrics needs RADQC_METRICS_TOKEN"
    (sd,) = job["kubernetes_sd_configs"]
    assert sd["namespaces"]["names"] == [kustomization()["namespace"]]
    keep = next(r for r in job["relabel_configs"] if r.get("action") == "keep")
    service_name, port_name = keep["regex"].split(";")
    service = named(resources, "Service", service_name)
    assert port_name in {p["name"] for p in service["spec"]["ports"]}
    served_by = next(
        d
        for d in by_kind(resources, "Deployment")
        if selects(service["spec"]["selector"], pod_labels(d))
    )
    assert ROLES[key(served_by)] == "api", "the API serves /metrics"
    assert any(r.get("target_label") == "namespace" for r in job["relabel_configs"]), (
        "prometheus-adapter matches the HPA's namespace on this label"
    )
