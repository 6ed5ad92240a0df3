"""Render deploy/k8s offline: a small kustomize for exactly the features the manifests use.

PyPI has no kustomize: its only kubectl binaries sit inside AWS CDK Lambda-layer assets, which
pull in aws-cdk-lib and a Node runtime. So the tests build the kustomizations with this
renderer. It supports ``resources`` (files and folders), ``namespace``, ``images`` and
``patches`` (JSON 6902 operation lists, and strategic-merge patches made of mappings only), and
refuses everything else, so a manifest can never rely on a feature whose real kustomize
semantics the tests would not reproduce. Where kubectl is installed, test_renderer.py checks
that its built-in kustomize renders the same objects.

Not a conftest.py: a second conftest would take the module name ``conftest`` from the root one,
which other tests import. The tests load this file by path (``load_renderer``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"

Resource = dict[str, Any]

SUPPORTED_FIELDS = frozenset({"apiVersion", "kind", "namespace", "resources", "images", "patches"})
CLUSTER_SCOPED = frozenset(
    {
        "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
        "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass",
        "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    }
)  # fmt: skip


class KustomizeError(Exception):
    """The kustomization uses something this renderer does not reproduce, or is wrong."""


def load_yaml_documents(path: Path) -> list[Resource]:
    """Every non-empty document of a YAML file."""
    return [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]


def resource_id(resource: Resource) -> tuple[str, str, str, str]:
    """What kustomize keys a resource by: group, kind, namespace, name."""
    group = resource["apiVersion"].rpartition("/")[0]
    meta = resource["metadata"]
    return group, resource["kind"], meta.get("namespace", ""), meta["name"]


def build(directory: Path) -> list[Resource]:
    """``kustomize build directory`` for the supported subset."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text("utf-8"))
    if spec.get("apiVersion") != "kustomize.config.k8s.io/v1beta1":
        raise KustomizeError(f"{directory}: apiVersion must be kustomize.config.k8s.io/v1beta1")
    if spec.get("kind") != "Kustomization":
        raise KustomizeError(f"{directory}: kind must be Kustomization")
    unsupported = set(spec) - SUPPORTED_FIELDS
    if unsupported:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unsupported)}")
    resources: list[Resource] = []
    for entry in spec.get("resources", []):
        path = (directory / entry).resolve()
        resources += build(path) if path.is_dir() else load_yaml_documents(path)
    seen: set[tuple[str, str, str, str]] = set()
    for resource in resources:
        key = resource_id(resource)
        if key in seen:
            raise KustomizeError(f"{directory}: resource {key} is defined twice")
        seen.add(key)
    for patch in spec.get("patches", []):
        apply_patch(resources, patch, directory)
    if "namespace" in spec:
        set_namespace(resources, spec["namespace"])
    for image in spec.get("images", []):
        set_image(resources, image)
    return resources


# --- patches ---------------------------------------------------------------------------------


def apply_patch(resources: list[Resource], entry: dict[str, Any], directory: Path) -> None:
    """One ``patches`` entry: ``path`` or inline ``patch``, with an optional ``target``."""
    unknown = set(entry) - {"path", "patch", "target"}
    if unknown or ("path" in entry) == ("patch" in entry):
        raise KustomizeError(f"patch entry needs exactly one of path/patch: {entry}")
    text = (directory / entry["path"]).read_text("utf-8") if "path" in entry else entry["patch"]
    body = yaml.safe_load(text)
    if isinstance(body, list):
        if "target" not in entry:
            raise KustomizeError("a JSON 6902 patch needs a target")
        for resource in select(resources, entry["target"]):
            for operation in body:
                json_patch(resource, operation)
    elif isinstance(body, dict):
        target = entry.get("target") or {
            "kind": body["kind"],
            "name": body["metadata"]["name"],
        }
        for resource in select(resources, target):
            merged = strategic_merge(resource, body)
            resource.clear()
            resource.update(merged)
    else:
        raise KustomizeError(f"patch is neither a list of operations nor a mapping: {body!r}")


def select(resources: list[Resource], target: dict[str, Any]) -> list[Resource]:
    """The resources a patch target names; none is an error (a typo would patch nothing)."""
    unknown = set(target) - {"group", "version", "kind", "name", "namespace", "labelSelector"}
    if unknown:
        raise KustomizeError(f"unsupported target fields {sorted(unknown)}")
    wanted_labels = dict(
        part.split("=", 1) for part in target.get("labelSelector", "").split(",") if part
    )
    matches = []
    for resource in resources:
        group, _, version = resource["apiVersion"].rpartition("/")
        meta = resource["metadata"]
        labels = meta.get("labels") or {}
        if (
            target.get("kind", resource["kind"]) == resource["kind"]
            and target.get("name", meta["name"]) == meta["name"]
            and target.get("namespace", meta.get("namespace")) == meta.get("namespace")
            and target.get("group", group) == group
            and target.get("version", version) == version
            and all(labels.get(k) == v for k, v in wanted_labels.items())
        ):
            matches.append(resource)
    if not matches:
        raise KustomizeError(f"patch target {target} matches no resource")
    return matches


def _pointer(path: str) -> list[str]:
    if not path.startswith("/"):
        raise KustomizeError(f"JSON pointer must start with '/': {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, append: bool = False) -> int:
    if append and token == "-":
        return len(container)
    if not re.fullmatch(r"0|[1-9]\d*", token):
        raise KustomizeError(f"not an array index: {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not append):
        raise KustomizeError(f"array index {index} out of range")
    return index


def _walk(document: Any, tokens: list[str], path: str) -> Any:
    """The node ``tokens`` lead to; a missing step is an error."""
    node = document
    for token in tokens:
        if isinstance(node, list):
            node = node[_index(node, token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KustomizeError(f"path {path!r} does not exist")
    return node


def json_patch(document: Any, operation: dict[str, Any]) -> None:
    """RFC 6902 ``add``, ``remove`` and ``replace`` on ``document``, in place."""
    op = operation.get("op")
    if op not in {"add", "remove", "replace"}:
        raise KustomizeError(f"unsupported JSON patch operation {op!r}")
    path = operation["path"]
    *parents, last = _pointer(path)
    node = _walk(document, parents, path)
    value = copy.deepcopy(operation.get("value"))
    if isinstance(node, list):
        index = _index(node, last, append=op == "add")
        if op == "add":
            node.insert(index, value)
        elif op == "remove":
            del node[index]
        else:
            node[index] = value
    elif isinstance(node, dict):
        if op != "add" and last not in node:
            raise KustomizeError(f"path {path!r} does not exist")
        if op == "remove":
            del node[last]
        else:
            node[last] = value
    else:
        raise KustomizeError(f"path {path!r} goes through a scalar")


def strategic_merge(base: Resource, patch: Resource) -> Resource:
    """A strategic-merge patch of mappings only: merge keys, ``null`` deletes.

    Lists merge by per-field keys in real kustomize (containers by name, ports by port...);
    rather than imitate that, a patch holding a list is refused: use a JSON 6902 patch.
    """
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, list):
            raise KustomizeError(f"strategic-merge patch with a list at {key!r}: use JSON 6902")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = strategic_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- namespace and images --------------------------------------------------------------------


def set_namespace(resources: list[Resource], namespace: str) -> None:
    """Every namespaced resource goes to ``namespace`` (kustomize overrides what was there)."""
    for resource in resources:
        if resource["kind"] not in CLUSTER_SCOPED:
            resource["metadata"]["namespace"] = namespace


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``registry:port/name:tag@digest`` as (name, tag, digest)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def containers(node: Any) -> Iterator[dict[str, Any]]:
    """Every container and init container anywhere below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"containers", "initContainers"} and isinstance(value, list):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from containers(item)


def set_image(resources: list[Resource], image: dict[str, Any]) -> None:
    """One ``images`` entry: containers whose image name is ``name`` get the new name/tag."""
    unknown = set(image) - {"name", "newName", "newTag", "digest"}
    if unknown:
        raise KustomizeError(f"unsupported images fields {sorted(unknown)}")
    for container in containers(resources):
        name, tag, digest = split_image(container["image"])
        if name != image["name"]:
            continue
        name = image.get("newName", name)
        if "digest" in image:
            container["image"] = f"{name}@{image['digest']}"
            continue
        tag = str(image.get("newTag", tag)) if image.get("newTag", tag) is not None else None
        container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# --- cache ---------------------------------------------------------------------------------

KUSTOMIZATIONS = ["base", "monitoring", "overlays/dev", "overlays/production"]
_BUILT: dict[str, list[Resource]] = {}


def rendered(relative: str) -> list[Resource]:
    """Build a kustomization under deploy/k8s once; each call gets its own copy."""
    if relative not in _BUILT:
        _BUILT[relative] = build(K8S / relative)
    return copy.deepcopy(_BUILT[relative])
