"""The parts of a running cluster stack the cluster tier asks about: its model pools, worker
hosts, object store and broker consumers, and what the API reports of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.containers import podman
from tests.containers.checks import api_url, log_lines
from tests.containers.compose_stack import Container, Stack, mac_address, worker_services
from tests.support import media

# The second pool's model: the first pool's baked model under a name of its own (the
# multilingual pool's image downloads its model while it builds, and there is no network).
SECOND_MODEL = "tiny-second.en"


def build_second_pool_image(config: dict[str, Any], folder: Path) -> str:
    """Tag the second pool's image: the first pool's image with its model linked as
    /models/SECOND_MODEL. Returns the tag."""
    first, second = worker_services(config)[:2]
    baked = config["services"][first]["build"]["args"]["WHISPER_MODEL"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Containerfile").write_text(
        f"FROM {config['services'][first]['image']}\n"
        "USER 0\n"
        f"RUN ln -s /models/{baked} /models/{SECOND_MODEL}\n"
        "USER 10001:10001\n",
        encoding="utf-8",
    )
    tag = str(config["services"][second]["image"])
    built = podman.build(str(folder / "Containerfile"), str(folder), tag, timeout=600)
    if built.returncode != 0:
        raise podman.PodmanError(f"building {tag} failed:\n{built.stdout}{built.stderr}")
    return tag


def pools(stack: Stack) -> list[str]:
    found = worker_services(stack.config)
    assert found, "docker-compose.yml defines no service built from the worker Dockerfile"
    return found


def models_of(stack: Stack, pool: str) -> list[str]:
    """The models a pool serves: its WORKER_MODELS, or its WHISPER_MODEL."""
    env = stack.services[pool].get("environment") or {}
    served = [m.strip() for m in str(env.get("WORKER_MODELS") or "").split(",") if m.strip()]
    return served or [str(env["WHISPER_MODEL"])]


def hosts(stack: Stack, pool: str | None = None) -> list[Container]:
    return [c for p in ([pool] if pool else pools(stack)) for c in stack.replicas(p)]


def object_store(stack: Stack) -> str:
    names = [
        name
        for name, service in stack.services.items()
        if str(service.get("image", "")).rsplit(":", 1)[0].endswith("seaweedfs")
    ]
    assert names, "docker-compose.yml has no SeaweedFS service"
    return names[0]


def env_of(stack: Stack, service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (stack.services[service].get("environment") or {}).items()}


def stored_objects(stack: Stack) -> list[str]:
    """Keys in the bucket, listed with the credentials the API uses."""
    import boto3
    from botocore.config import Config

    env = env_of(stack, "api")
    store = stack.replicas(object_store(stack))[0]
    port = env["S3_ENDPOINT_URL"].rstrip("/").rsplit(":", 1)[-1]
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{store.address}:{port}",
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
        region_name=env.get("S3_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=env["S3_BUCKET"]):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys


def files_under(container: str, folder: str) -> list[str]:
    found = podman.exec_in(container, ["find", folder, "-type", "f"])
    return sorted(found.stdout.split()) if found.returncode == 0 else []


def completions(stack: Stack, job_id: str) -> list[str]:
    """`job completed` log lines of the job across every worker host."""
    return [
        f"{c.name}: {line}"
        for c in hosts(stack)
        for line in log_lines(c.name, "job completed", job_id)
    ]


def start_again(stack: Stack, container: Container) -> None:
    podman.podman("start", container.name, timeout=120)
    stack.wait_healthy(container.name, timeout=300)


def reconnect(stack: Stack, container: Container) -> None:
    """Back on the network, with the address and MAC address it had."""
    podman.podman(
        *("network", "connect", "--ip", container.address),
        *("--mac-address", mac_address(container.address), stack.network, container.name),
        timeout=60,
    )


def consumers(stack: Stack) -> int:
    """Consumers of the job queues (`transcriptions…`), as RabbitMQ's management API counts
    them: one per worker program connected."""
    env = env_of(stack, "rabbitmq")
    broker = stack.replicas("rabbitmq")[0]
    url = f"http://{broker.address}:{stack.container_port('rabbitmq')}/api/queues"
    auth = (env["RABBITMQ_DEFAULT_USER"], env["RABBITMQ_DEFAULT_PASS"])
    response = httpx.get(url, auth=auth, timeout=30)
    response.raise_for_status()
    return sum(
        int(q.get("consumers", 0))
        for q in response.json()
        if str(q["name"]).startswith("transcriptions")
    )


def models_report(stack: Stack, replica: int = 1) -> dict[str, dict[str, Any]]:
    response = httpx.get(api_url(stack, "/api/models", replica), timeout=30)
    assert response.status_code == 200, response.text
    return {item["name"]: item for item in response.json()["items"]}


def own_copy(spoken: Path, folder: Path, name: str) -> Path:
    """The same samples in a file of its own (its name as the comment tag): an upload that is
    transcribed, not completed at once from an earlier transcription of the same bytes."""
    return media.convert(spoken, folder / f"{name}.wav", "-metadata", f"comment={name}")


def recording(text: str, folder: Path, name: str) -> Path:
    """`text` spoken into a file of its own (see `own_copy`)."""
    return own_copy(media.speech(text, folder, name=f"{name}-speech"), folder, name)
