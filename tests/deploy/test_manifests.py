"""deploy/k8s renders, validates against the Kubernetes schemas and follows the house policy.

Core kinds are checked with kubernetes-validate's strict schemas (unknown fields are errors);
the custom resources (KEDA, Prometheus Operator, CloudNativePG) have no schema there, so their
required fields are checked here.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from vigil_common.config import Settings
from vigil_common.subjects import ALL_CONSUMERS, STREAM

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").exists())
WORKERS = [name for name in SERVICES if name != "gateway"]
KUSTOMIZATIONS = ["base", "monitoring", "overlays/dev", "overlays/production"]
OVERLAYS = ["overlays/dev", "overlays/production"]
# The oldest Kubernetes the manifests promise to work on, and the newest schemas packaged.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
PRIVATE_RANGES = {
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
}
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - pods must listen beyond loopback
SETTINGS_VARIABLES = {f"VIGIL_{field.upper()}" for field in Settings.__struct_fields__}

Resource = dict[str, Any]
Render = Callable[[str], list[Resource]]


def load_renderer() -> ModuleType:
    """tests/deploy/render.py, loaded by path once (test folders are not packages here)."""
    name = "vigil_deploy_render"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("render.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def render() -> Render:
    """Build a kustomization under deploy/k8s (cached; each call gets its own copy)."""
    rendered: Render = load_renderer().rendered
    return rendered


def of_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_templates(resources: list[Resource]) -> Iterator[tuple[str, Resource]]:
    for resource in resources:
        if resource["kind"] in {"Deployment", "Job"}:
            yield f"{resource['kind']}/{resource['metadata']['name']}", resource["spec"]["template"]


def quantity(text: str) -> int:
    """A binary-suffixed Kubernetes quantity (``256Mi``, ``4Gi``) in bytes."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(text[:-2]) * units[text[-2:]] if text[-2:] in units else int(text)


def env_of(container: Resource) -> dict[str, Any]:
    return {item["name"]: item for item in container.get("env", [])}


# --- rendering and schemas -------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_kustomization_renders_and_matches_the_kubernetes_schemas(
    render: Render, kustomization: str, version: str
) -> None:
    resources = render(kustomization)
    assert resources
    for resource in resources:
        if (resource["apiVersion"], resource["kind"]) in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(resource, version, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_lands_in_the_vigil_namespace(render: Render, overlay: str) -> None:
    assert {r["metadata"].get("namespace") for r in render(overlay)} == {"vigil"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_pins_every_image(render: Render, overlay: str) -> None:
    for name, template in pod_templates(render(overlay)):
        for container in template["spec"]["containers"]:
            image = container["image"]
            tag = image.rpartition(":")[2]
            assert "/" not in tag and tag not in {"", "latest"}, f"{name}: {image} has no tag"
            assert not image.startswith("vigil/"), f"{name}: {image} was not set by the overlay"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migration_job_uses_the_gateway_image(render: Render, overlay: str) -> None:
    resources = render(overlay)
    job = of_kind(resources, "Job")["vigil-migrate"]
    gateway = of_kind(resources, "Deployment")["gateway"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/opt/vigil/bin/python", "-m", "vigil_common.migrate"]
    # It runs before anything else is applied: only the Secret made at install may be needed.
    assert "envFrom" not in container
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]} == {"vigil-secrets"}
    assert container["image"] == gateway["spec"]["template"]["spec"]["containers"][0]["image"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


# --- the house policy for every pod ----------------------------------------------------------


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_every_pod_is_hardened(render: Render, kustomization: str) -> None:
    templates = list(pod_templates(render(kustomization)))
    assert len(templates) == len(SERVICES) + 1  # six Deployments and the migrations Job
    for name, template in templates:
        spec = template["spec"]
        assert spec["enableServiceLinks"] is False, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1, f"{name}: /tmp must be mounted"
            empty_dir = volumes[tmp[0]["name"]]["emptyDir"]  # /tmp must be an emptyDir
            storage = container["resources"]["limits"].get("ephemeral-storage")
            if storage is not None:  # the limit also counts logs: it must exceed /tmp's size
                assert quantity(storage) > quantity(empty_dir["sizeLimit"]), name


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_every_deployment_probes_its_health_endpoints(render: Render, kustomization: str) -> None:
    deployments = of_kind(render(kustomization), "Deployment")
    assert sorted(deployments) == SERVICES
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        expected_port = 8080 if name == "gateway" else 9090
        for probe, path in (
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
            ("startupProbe", "/healthz"),
        ):
            check = container[probe]["httpGet"]
            assert check["path"] == path, (name, probe)
            assert ports[check["port"]] == expected_port, (name, probe)
        assert "replicas" not in deployment["spec"], f"{name}: its autoscaler owns replicas"


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_processes_listen_where_the_probes_look(render: Render, kustomization: str) -> None:
    for name, deployment in of_kind(render(kustomization), "Deployment").items():
        env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
        if name == "gateway":
            assert env["VIGIL_GATEWAY_HOST"]["value"] == ANY_ADDRESS
            assert env["VIGIL_GATEWAY_PORT"]["value"] == "8080"
        else:
            assert env["VIGIL_HEALTH_HOST"]["value"] == ANY_ADDRESS
            assert env["VIGIL_HEALTH_PORT"]["value"] == "9090"


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_workers_may_finish_a_stage_before_they_are_killed(
    render: Render, kustomization: str
) -> None:
    resources = render(kustomization)
    config = of_kind(resources, "ConfigMap")["vigil-config"]["data"]
    stage_timeout = float(config["VIGIL_STAGE_TIMEOUT_SECONDS"])
    deployments = of_kind(resources, "Deployment")
    for name in WORKERS:
        grace = deployments[name]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > stage_timeout, f"{name}: grace {grace} s <= stage timeout"
    gateway = deployments["gateway"]["spec"]["template"]["spec"]
    # aiohttp's run_app finishes requests for up to 60 s after the 5 s preStop pause.
    assert gateway["terminationGracePeriodSeconds"] > 65


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_secrets_come_from_the_secret_and_everything_else_is_a_real_setting(
    render: Render, kustomization: str
) -> None:
    resources = render(kustomization)
    config = of_kind(resources, "ConfigMap")["vigil-config"]["data"]
    assert set(config) <= SETTINGS_VARIABLES, set(config) - SETTINGS_VARIABLES
    secret_variables = {
        "VIGIL_DATABASE_URL", "VIGIL_S3_ACCESS_KEY", "VIGIL_S3_SECRET_KEY", "VIGIL_SEALING_KEY",
        "VIGIL_BOOTSTRAP_API_KEY",
    }  # fmt: skip
    assert not secret_variables & set(config), "secrets belong in the Secret, not the ConfigMap"
    for name, template in pod_templates(resources):
        for container in template["spec"]["containers"]:
            env = env_of(container)
            assert set(env) <= SETTINGS_VARIABLES, (name, set(env) - SETTINGS_VARIABLES)
            for variable in secret_variables & set(env):
                ref = env[variable]["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "vigil-secrets", (name, variable)
            for variable, item in env.items():
                if "valueFrom" in item:
                    assert variable in secret_variables, (name, variable)
            assert env["VIGIL_DATABASE_URL"]["valueFrom"]["secretKeyRef"].get("optional") is None
            if "VIGIL_BOOTSTRAP_API_KEY" in env:
                assert env["VIGIL_BOOTSTRAP_API_KEY"]["valueFrom"]["secretKeyRef"]["optional"]


def test_the_sealing_key_reaches_only_the_services_that_seal() -> None:
    users = {"gateway", "ingest", "notifier"}
    for name in SERVICES:
        text = (K8S / "base" / f"{name}.yaml").read_text("utf-8")
        assert ("VIGIL_SEALING_KEY" in text) == (name in users), name


# --- scaling -------------------------------------------------------------------------------


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_every_service_has_exactly_one_scaler(render: Render, kustomization: str) -> None:
    resources = render(kustomization)
    hpas = of_kind(resources, "HorizontalPodAutoscaler")
    scaled = of_kind(resources, "ScaledObject")
    assert sorted(hpas) == ["gateway"]
    assert sorted(scaled) == sorted(WORKERS)
    hpa = hpas["gateway"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_workers_scale_on_their_own_jetstream_consumer(render: Render, kustomization: str) -> None:
    resources = render(kustomization)
    deployments = of_kind(resources, "Deployment")
    durables = {spec.durable for spec in ALL_CONSUMERS}
    for name, scaled in of_kind(resources, "ScaledObject").items():
        assert scaled["apiVersion"] == "keda.sh/v1alpha1"
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] == name and name in deployments
        assert spec.get("scaleTargetRef", {}).get("kind", "Deployment") == "Deployment"
        assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "nats-jetstream"
        metadata = trigger["metadata"]
        assert set(metadata) >= {
            "natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold",
        }  # fmt: skip
        assert all(isinstance(value, str) for value in metadata.values()), name
        assert metadata["account"] == "$G"
        assert metadata["stream"] == STREAM
        assert metadata["consumer"] == name and name in durables
        assert metadata["natsServerMonitoringEndpoint"].endswith(":8222")
        assert int(metadata["lagThreshold"]) >= 1


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_only_the_hunter_sleeps_at_zero(render: Render, kustomization: str) -> None:
    minimum = {
        name: scaled["spec"]["minReplicaCount"]
        for name, scaled in of_kind(render(kustomization), "ScaledObject").items()
    }
    # The validator finalises every scan; the notifier's retries wait in PostgreSQL, where no
    # pending message would wake it.
    assert minimum.pop("ai-hunter") == 0
    assert all(count >= 1 for count in minimum.values()), minimum


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_every_service_has_a_disruption_budget(render: Render, kustomization: str) -> None:
    budgets = of_kind(render(kustomization), "PodDisruptionBudget")
    assert sorted(budgets) == SERVICES
    for name, budget in budgets.items():
        assert budget["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_pods_spread_over_zones_and_nodes(render: Render, kustomization: str) -> None:
    for name, deployment in of_kind(render(kustomization), "Deployment").items():
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"] for c in spread}
        assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, name
        for constraint in spread:
            assert constraint["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}


@pytest.mark.parametrize("kustomization", ["base", *OVERLAYS])
def test_services_expose_the_probed_ports(render: Render, kustomization: str) -> None:
    resources = render(kustomization)
    services = of_kind(resources, "Service")
    assert sorted(services) == SERVICES
    for name, service in services.items():
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}
        (port,) = service["spec"]["ports"]
        assert port["name"] == ("http" if name == "gateway" else "metrics")


# --- network policies ----------------------------------------------------------------------


def policies(render: Render) -> dict[str, Resource]:
    return of_kind(render("base"), "NetworkPolicy")


def selects(policy: Resource, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def pod_labels(render: Render) -> dict[str, dict[str, str]]:
    return {
        name.split("/")[1]: template["metadata"]["labels"]
        for name, template in pod_templates(render("base"))
    }


def egress_rules(render: Render, pod: str) -> list[Resource]:
    labels = pod_labels(render)[pod]
    return [
        rule
        for policy in policies(render).values()
        if selects(policy, labels)
        for rule in policy["spec"].get("egress", [])
    ]


def test_everything_is_denied_unless_allowed(render: Render) -> None:
    deny = policies(render)["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_every_pod_may_resolve_names(render: Render) -> None:
    dns = policies(render)["vigil-dns"]["spec"]
    assert dns["podSelector"] == {}
    ports = {(p["protocol"], p["port"]) for p in dns["egress"][0]["ports"]}
    assert ports == {("UDP", 53), ("TCP", 53)}


def reaches(rules: list[Resource], port: int, namespace: str | None = None) -> bool:
    for rule in rules:
        ports = {p["port"] for p in rule.get("ports", [])}
        if ports and port not in ports:
            continue
        for peer in rule["to"]:
            if namespace is None and "ipBlock" in peer:
                return True
            labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
            if namespace is not None and labels.get("kubernetes.io/metadata.name") == namespace:
                return True
    return False


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_reaches_nats_postgres_and_s3(render: Render, service: str) -> None:
    rules = egress_rules(render, service)
    assert reaches(rules, 4222, "nats")
    assert reaches(rules, 5432, "vigil-db")
    assert reaches(rules, 443)


def test_the_migration_job_reaches_only_postgres(render: Render) -> None:
    rules = egress_rules(render, "vigil-migrate")
    assert reaches(rules, 5432, "vigil-db")
    assert not reaches(rules, 4222, "nats")
    assert not reaches(rules, 443)


def test_only_the_gateway_takes_traffic_and_only_from_the_ingress(render: Render) -> None:
    labels = pod_labels(render)
    for name, policy in policies(render).items():
        for rule in policy["spec"].get("ingress", []):
            ports = {p["port"] for p in rule["ports"]}
            namespaces = {
                peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for peer in rule["from"]
            }
            if ports == {8080}:
                assert namespaces == {"ingress-nginx"}, name
                assert [p for p, lab in labels.items() if selects(policy, lab)] == ["gateway"]
            else:
                assert namespaces == {"monitoring"} and ports == {8080, 9090}, name


def test_the_notifier_reaches_the_internet_but_no_private_range(render: Render) -> None:
    webhooks = policies(render)["notifier-webhooks"]["spec"]
    (rule,) = webhooks["egress"]
    (peer,) = rule["to"]
    assert "ports" not in rule  # receivers listen on any port
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert set(peer["ipBlock"]["except"]) == PRIVATE_RANGES
    for cidr in PRIVATE_RANGES:
        assert ipaddress.ip_network(cidr).is_private or cidr == "100.64.0.0/10"


@pytest.mark.parametrize(("service", "policy"), [("ingest", "ingest-git-hosts"),
                                                  ("ai-hunter", "ai-llm-endpoint"),
                                                  ("validator", "ai-llm-endpoint")])  # fmt: skip
def test_outside_calls_are_https_to_public_addresses(
    render: Render, service: str, policy: str
) -> None:
    spec = policies(render)[policy]["spec"]
    assert selects(policies(render)[policy], pod_labels(render)[service])
    (rule,) = spec["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    assert set(rule["to"][0]["ipBlock"]["except"]) == PRIVATE_RANGES


# --- monitoring ----------------------------------------------------------------------------


def test_service_monitors_find_every_metrics_port(render: Render) -> None:
    monitors = of_kind(render("overlays/production"), "ServiceMonitor")
    services = of_kind(render("overlays/production"), "Service")
    scraped = set()
    for monitor in monitors.values():
        spec = monitor["spec"]
        wanted = spec["selector"]["matchLabels"]
        for name, service in services.items():
            labels = service["metadata"]["labels"]
            if all(labels.get(k) == v for k, v in wanted.items()):
                port_names = {p["name"] for p in service["spec"]["ports"]}
                for endpoint in spec["endpoints"]:
                    assert endpoint["path"] == "/metrics"
                    if endpoint["port"] in port_names:
                        scraped.add(name)
    assert sorted(scraped) == SERVICES


def test_alert_rules_are_well_formed_and_use_vigils_metrics(render: Render) -> None:
    (rule_set,) = of_kind(render("monitoring"), "PrometheusRule").values()
    rules = [rule for group in rule_set["spec"]["groups"] for rule in group["rules"]]
    assert rules
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["alert"].startswith("Vigil") and rule["expr"].strip()
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
    text = " ".join(rule["expr"] for rule in rules)
    for metric in (
        "vigil_messages_total", "vigil_scans_finished_total", "vigil_stage_seconds_bucket",
        "vigil_http_requests_total", "vigil_http_request_seconds_bucket",
        "jetstream_consumer_num_pending",
    ):  # fmt: skip
        assert metric in text, metric


# --- dependencies --------------------------------------------------------------------------


def test_nats_values_ask_for_a_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((K8S / "dependencies" / "nats-values.yaml").read_text("utf-8"))
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True
    assert values["config"]["jetstream"]["fileStore"]["enabled"] is True
    assert values["config"]["monitor"]["port"] == 8222  # KEDA reads consumer lag here


def test_postgres_is_a_cloudnativepg_cluster_with_backups() -> None:
    docs = yaml.safe_load_all((K8S / "dependencies" / "postgres-cluster.yaml").read_text("utf-8"))
    by_kind = {doc["kind"]: doc for doc in docs}
    cluster, backup = by_kind["Cluster"], by_kind["ScheduledBackup"]
    assert cluster["apiVersion"] == backup["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["metadata"] == {"name": "vigil-db", "namespace": "vigil-db"}
    spec = cluster["spec"]
    assert spec["instances"] >= 3
    assert spec["storage"]["size"]
    assert spec["bootstrap"]["initdb"] == {"database": "vigil", "owner": "vigil"}
    assert spec["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
    assert backup["spec"]["cluster"]["name"] == "vigil-db"
    assert len(backup["spec"]["schedule"].split()) == 6  # CloudNativePG cron has seconds


def test_network_policies_match_the_dependencies_labels(render: Render) -> None:
    postgres = policies(render)["vigil-postgres"]["spec"]["egress"][0]["to"][0]
    assert postgres["podSelector"]["matchLabels"] == {"cnpg.io/cluster": "vigil-db"}
    nats = policies(render)["vigil-nats"]["spec"]["egress"][0]["to"][0]
    assert nats["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "nats"}
    config = of_kind(render("base"), "ConfigMap")["vigil-config"]["data"]
    assert config["VIGIL_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"
