"""The offline kustomize renderer (conftest.py) does what kustomize does, or refuses."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: "registry:5000/tools:1.0"}]
      containers: [{name: web, image: vigil/web}]
"""


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
def kz() -> ModuleType:
    """The renderer's module."""
    return load_renderer()


def write(folder: Path, files: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content)
        (folder / name).write_text(text, "utf-8")
    return folder


def kustomization(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", **fields}


def test_resources_namespace_and_images(kz: ModuleType, tmp_path: Path) -> None:
    write(tmp_path / "base", {
        "kustomization.yaml": kustomization(resources=["web.yaml"]),
        "web.yaml": DEPLOYMENT,
    })  # fmt: skip
    overlay = write(tmp_path / "overlay", {
        "kustomization.yaml": kustomization(
            resources=["../base"],
            namespace="team",
            images=[
                {"name": "vigil/web", "newName": "example.com/web", "newTag": "1.2.3"},
                {"name": "registry:5000/tools", "newTag": "2.0"},
            ],
        ),
    })  # fmt: skip
    (web,) = kz.build(overlay)
    assert web["metadata"]["namespace"] == "team"
    pod = web["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "example.com/web:1.2.3"
    assert pod["initContainers"][0]["image"] == "registry:5000/tools:2.0"


def test_json_patches_with_targets(kz: ModuleType, tmp_path: Path) -> None:
    folder = write(tmp_path, {
        "kustomization.yaml": kustomization(
            resources=["web.yaml"],
            patches=[{
                "target": {"kind": "Deployment", "labelSelector": "app=web"},
                "patch": yaml.safe_dump([
                    {"op": "add", "path": "/spec/replicas", "value": 3},
                    {"op": "replace", "path": "/spec/template/spec/containers/0/name",
                     "value": "main"},
                    {"op": "add", "path": "/spec/template/spec/containers/-",
                     "value": {"name": "side", "image": "side:1"}},
                    {"op": "remove", "path": "/spec/template/spec/initContainers"},
                    {"op": "add", "path": "/metadata/labels/a~1b", "value": "x"},
                ]),
            }],
        ),
        "web.yaml": DEPLOYMENT,
    })  # fmt: skip
    (web,) = kz.build(folder)
    assert web["spec"]["replicas"] == 3
    pod = web["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["main", "side"]
    assert "initContainers" not in pod
    assert web["metadata"]["labels"]["a/b"] == "x"


def test_strategic_merge_of_mappings(kz: ModuleType, tmp_path: Path) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
              "data": {"A": "1", "B": "2"}}  # fmt: skip
    patch = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
             "data": {"B": None, "C": "3"}}  # fmt: skip
    folder = write(tmp_path, {
        "kustomization.yaml": kustomization(resources=["c.yaml"], patches=[{"path": "p.yaml"}]),
        "c.yaml": config,
        "p.yaml": patch,
    })  # fmt: skip
    (merged,) = kz.build(folder)
    assert merged["data"] == {"A": "1", "C": "3"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"commonLabels": {"a": "b"}}, "unsupported kustomization fields"),
        ({"patches": [{"target": {"kind": "Service"}, "patch": "- {op: remove, path: /x}"}]},
         "matches no resource"),
        ({"patches": [{"patch": "kind: Deployment\nmetadata: {name: web}\nspec:\n  x: [1]\n"}]},
         "use JSON 6902"),
        ({"patches": [{"target": {"kind": "Deployment"}, "patch": "- {op: move, path: /a}"}]},
         "unsupported JSON patch operation"),
        ({"patches": [{"target": {"kind": "Deployment"},
                       "patch": "- {op: replace, path: /spec/nothing, value: 1}"}]},
         "does not exist"),
        ({"resources": ["web.yaml", "web.yaml"]}, "defined twice"),
    ],
)  # fmt: skip
def test_refuses_what_it_does_not_reproduce(
    kz: ModuleType, tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    folder = write(tmp_path, {
        "kustomization.yaml": kustomization(**{"resources": ["web.yaml"], **fields}),
        "web.yaml": DEPLOYMENT,
    })  # fmt: skip
    with pytest.raises(kz.KustomizeError, match=message):
        kz.build(folder)


def test_split_image(kz: ModuleType) -> None:
    assert kz.split_image("nginx") == ("nginx", None, None)
    assert kz.split_image("localhost:5000/a/b:1.0") == ("localhost:5000/a/b", "1.0", None)
    assert kz.split_image("a@sha256:00") == ("a", None, "sha256:00")


def test_the_schema_validator_catches_mistakes() -> None:
    """A guard that strict validation is really on: an unknown field and a wrong type fail."""
    deployment = yaml.safe_load(DEPLOYMENT)
    kubernetes_validate.validate(deployment, "1.30.0", strict=True)
    deployment["spec"]["template"]["spec"]["enableServiceLink"] = False
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.30.0", strict=True)
    deployment = yaml.safe_load(DEPLOYMENT)
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "soon"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.30.0", strict=True)


KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="no kubectl here: set KUBECTL to cross-check")
@pytest.mark.parametrize(
    "kustomization", ["base", "monitoring", "overlays/dev", "overlays/production"]
)
def test_renders_exactly_what_kustomize_renders(kz: ModuleType, kustomization: str) -> None:
    """Where kubectl exists, its built-in kustomize must agree object for object."""
    assert KUBECTL is not None
    folder = kz.K8S / kustomization
    built = subprocess.run(
        [KUBECTL, "kustomize", str(folder)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    real = [doc for doc in yaml.safe_load_all(built.stdout) if doc is not None]

    def canonical(docs: list[dict[str, Any]]) -> list[str]:
        return sorted(json.dumps(doc, sort_keys=True) for doc in docs)

    assert canonical(kz.build(folder)) == canonical(real)
