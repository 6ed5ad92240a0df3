"""Each service's Dockerfile builds that service, and only it, the way its package says.

Docker is not needed (nor available in CI): the Dockerfiles are read, not built.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from vigil_common.config import Settings
from vigil_static_scan.scanners import semgrep

REPO = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (REPO / "services").iterdir() if (p / "pyproject.toml").exists())
SETTINGS_VARIABLES = {f"VIGIL_{field.upper()}" for field in Settings.__struct_fields__}
SITE_PACKAGES = "/opt/vigil/lib/python3.11/site-packages"


def dockerfile(service: str) -> str:
    return (REPO / "services" / service / "Dockerfile").read_text("utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, in order."""
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(text):
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def module_of(service: str) -> str:
    """The module behind the service's ``vigil-<name>`` console script."""
    project = tomllib.loads((REPO / "services" / service / "pyproject.toml").read_text("utf-8"))
    target = project["project"]["scripts"][f"vigil-{service}"]
    return target.partition(":")[0].rpartition(".")[0]


def test_every_service_has_a_dockerfile() -> None:
    assert SERVICES == ["ai-hunter", "gateway", "ingest", "notifier", "static-scan", "validator"]
    for service in SERVICES:
        assert (REPO / "services" / service / "Dockerfile").is_file(), service


@pytest.mark.parametrize("service", SERVICES)
def test_entry_point_runs_the_services_module(service: str) -> None:
    module = module_of(service)
    assert module == "vigil_" + service.replace("-", "_")
    assert (REPO / "services" / service / module / "__main__.py").is_file()
    final = stages(dockerfile(service))[-1]
    (entrypoint,) = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["/opt/vigil/bin/python", "-m", module]
    assert not [rest for keyword, rest in final if keyword == "CMD"]


# The services that render reports (the gateway on demand, the validator at finalisation).
RENDERS_REPORTS = {"gateway", "validator"}


@pytest.mark.parametrize("service", SERVICES)
def test_installs_vigil_common_and_the_service_not_editable(service: str) -> None:
    build = stages(dockerfile(service))[0]
    copies = [rest for keyword, rest in build if keyword == "COPY"]
    assert f"services/{service} services/{service}" in copies
    assert "libs/common libs/common" in copies
    assert not [c for c in copies if c.startswith("services/") and service not in c]
    (install,) = [rest for keyword, rest in build if keyword == "RUN" and "pip install" in rest]
    libs = "./libs/common ./libs/reports" if service in RENDERS_REPORTS else "./libs/common"
    assert install.endswith(
        f"/opt/vigil/bin/pip install -c requirements/constraints.txt {libs} ./services/{service}"
    )
    assert " -e " not in install and "--editable" not in install


@pytest.mark.parametrize("service", SERVICES)
def test_runs_as_a_non_root_user_on_python_311_slim(service: str) -> None:
    text = dockerfile(service)
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    all_stages = stages(text)
    assert len(all_stages) >= 2, "multi-stage: build tools stay out of the final image"
    for stage in all_stages:
        assert stage[0][1].startswith("${PYTHON_IMAGE}")
    final = all_stages[-1]
    (user,) = [rest for keyword, rest in final if keyword == "USER"]
    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user), "a numeric, non-root uid:gid"
    assert ("COPY", "--from=build /opt/vigil /opt/vigil") in final
    # Read-only root filesystem: everything written goes to /tmp.
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "HOME=/tmp" in env and "TMPDIR=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env


@pytest.mark.parametrize("service", SERVICES)
def test_only_static_scan_carries_semgrep(service: str) -> None:
    text = dockerfile(service)
    assert ("semgrep" in text.lower()) == (service == "static-scan")
    assert (" git " in text) == (service == "ingest"), "git is installed for ingest alone"


@pytest.mark.parametrize("service", SERVICES)
def test_settings_baked_into_images_are_real(service: str) -> None:
    variables = set(re.findall(r"\bVIGIL_[A-Z0-9_]+", dockerfile(service)))
    assert variables <= SETTINGS_VARIABLES, variables - SETTINGS_VARIABLES


def test_static_scan_image_has_semgrep_in_its_own_venv_and_the_rules() -> None:
    text = dockerfile("static-scan")
    all_stages = stages(text)
    scanner = [s for s in all_stages if s[0][1].endswith("AS semgrep")]
    (stage,) = scanner
    run = " ".join(rest for keyword, rest in stage if keyword == "RUN")
    assert "python -m venv /opt/semgrep" in run
    assert "/opt/semgrep/bin/pip install -r /src/requirements/scanners.txt" in run
    final = all_stages[-1]
    assert ("COPY", "--from=semgrep /opt/semgrep /opt/semgrep") in final
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert "VIGIL_SEMGREP_BIN=/opt/semgrep/bin/semgrep" in env
    # The rule packs sit beside the installed package, where RULES_DIR looks for them.
    package = Path(semgrep.__file__).resolve().parents[1]
    assert package.parent / "rules" == semgrep.RULES_DIR
    assert semgrep.RULES_DIR == REPO / "services" / "static-scan" / "rules"
    assert ("COPY", f"services/static-scan/rules {SITE_PACKAGES}/rules") in final


def test_ingest_image_has_git() -> None:
    final = stages(dockerfile("ingest"))[-1]
    run = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert "apt-get install --yes --no-install-recommends git ca-certificates" in run


def test_dockerignore_keeps_what_the_images_copy() -> None:
    lines = (REPO / ".dockerignore").read_text("utf-8").splitlines()
    exceptions = [index for index, line in enumerate(lines) if line.startswith("!")]
    assert exceptions and lines.index("**") < min(exceptions), "everything else is left out"
    for kept in (
        "!requirements/constraints.txt",
        "!requirements/scanners.txt",
        "!libs/common/",
        "!services/",
    ):
        assert kept in lines
    assert "**/tests/" in lines
    for service in SERVICES:
        for source in re.findall(r"^COPY (?!--)(\S+)", dockerfile(service), re.MULTILINE):
            top = source.split("/")[0]
            assert top in {"requirements", "libs", "services"}, source


def test_make_images_builds_every_service() -> None:
    makefile = (REPO / "Makefile").read_text("utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony and "images" in phony.group(1).split()
    assert re.search(r"^images:", makefile, re.MULTILINE)
    services = re.search(r"^IMAGE_SERVICES :?= (.*)$", makefile, re.MULTILINE)
    assert services and sorted(services.group(1).split()) == SERVICES
    assert "docker build -f services/$(s)/Dockerfile" in makefile
