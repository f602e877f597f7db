#!/usr/bin/env bash
# Installs and configures rootful podman for the containers test tier (`make podman`).
#
# Debian packages: podman and buildah (build and run), debootstrap (the stand-in base images),
# runc and catatonit. Settings go into a drop-in of podman's system-wide configuration:
#   runtime = "runc"      crun refuses a hybrid cgroup layout that some VMs have
#   default_ulimits       fixed limits: raising them above the host's is not permitted there
# Nothing else on the machine changes. Safe to run again.
set -euo pipefail

packages=(podman buildah debootstrap runc catatonit)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi

dropin=/etc/containers/containers.conf.d/50-soundscripter-tests.conf
wanted='# Written by SoundScripter: `make podman` (tests/containers/setup-podman.sh).
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"'
if [ ! -f "$dropin" ] || [ "$(cat "$dropin")" != "$wanted" ]; then
    echo "Writing $dropin"
    $sudo mkdir -p "$(dirname "$dropin")"
    printf '%s\n' "$wanted" | $sudo tee "$dropin" >/dev/null
fi

if ! $sudo podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null 2>&1; then
    echo "podman is installed but does not work here:" >&2
    $sudo podman info >&2
    exit 1
fi
