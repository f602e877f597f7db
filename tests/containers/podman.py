"""A thin wrapper around the podman command line, for the containers tier.

Every resource the tier creates carries the label `LABEL=<run id>`, so that what a run
started can be found and removed again, also the leftovers of a run that was killed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

LABEL = "io.soundscripter.test-run"


class PodmanError(RuntimeError):
    pass


def command() -> list[str]:
    """`podman`, through sudo when this process is not root (podman runs rootful here)."""
    podman = shutil.which("podman")
    if podman is None:
        raise PodmanError("podman is not installed: run `make podman` (Debian's podman, rootful)")
    if os.geteuid() == 0:
        return [podman]
    return ["sudo", "-n", podman]


def podman(
    *args: str, timeout: float = 120, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input,
    )
    if check and result.returncode != 0:
        raise PodmanError(
            f"podman {' '.join(args[:3])} ... exited with {result.returncode}:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def inspect(kind: str, name: str) -> dict[str, Any]:
    data = json.loads(podman(kind, "inspect", name).stdout)
    return data[0] if isinstance(data, list) else data


def build(
    containerfile: str,
    context: str,
    tag: str,
    *,
    build_args: dict[str, str] | None = None,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """`podman build` in Docker format (the OCI format drops HEALTHCHECK), never pulling."""
    args = ["build", "--format", "docker", "--pull=never", "--layers", "-f", containerfile]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    return podman(*args, "-t", tag, context, timeout=timeout, check=False)


def remove_labelled(value: str | None = None) -> None:
    """Remove containers, then volumes, then networks labelled LABEL (=value, if given)."""
    selector = LABEL if value is None else f"{LABEL}={value}"
    listings = {
        "container": ["ps", "-a", "--format", "{{.Names}}", "--filter", f"label={selector}"],
        "volume": ["volume", "ls", "--format", "{{.Name}}", "--filter", f"label={selector}"],
        "network": ["network", "ls", "--format", "{{.Name}}", "--filter", f"label={selector}"],
    }
    for kind, listing in listings.items():
        names = podman(*listing, check=False).stdout.split()
        if not names:
            continue
        if kind == "container":
            podman("rm", "--force", "--time", "0", *names, timeout=300, check=False)
        else:
            podman(kind, "rm", "--force", *names, timeout=120, check=False)


def labelled_runs() -> set[str]:
    """Run ids of containers, volumes and networks some run of the tier left behind."""
    runs: set[str] = set()
    for listing in (
        ["ps", "-a", "--format", "{{.Labels}}"],
        ["volume", "ls", "--format", "{{.Labels}}"],
        ["network", "ls", "--format", "{{.Labels}}"],
    ):
        for line in podman(*listing, "--filter", f"label={LABEL}", check=False).stdout.splitlines():
            runs.update(_label_values(line))
    return runs


def _label_values(line: str) -> list[str]:
    # `map[io.soundscripter.test-run:ss_test_ab12 other:x]`
    found = []
    for item in line.strip().removeprefix("map[").removesuffix("]").split():
        key, _, value = item.partition(":")
        if key == LABEL:
            found.append(value)
    return found


def logs(name: str, tail: int | None = None) -> str:
    args = ["logs"]
    if tail is not None:
        args += ["--tail", str(tail)]
    result = podman(*args, name, check=False, timeout=60)
    return result.stdout + result.stderr


def exec_in(
    name: str, argv: Sequence[str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return podman("exec", name, *argv, check=False, timeout=timeout)
