"""Build the runner image that DockerSandbox uses; idempotent (skips when the image is up to date).

    python -m sandboxes.build --offline      # or: mimo-eval sandbox build --offline

Online (default): `Dockerfile` on python:3.11-slim-bookworm from a registry. Offline: a Debian bookworm
rootfs from debootstrap (`--variant=minbase --include=python3`, docs and test suites stripped) is imported
as the base, then the same Dockerfile adds the driver and the zygote (driver.py, zygote.py, cleanup.py). They
are baked into the image, not bind-mounted, so the image is self-contained (it also works with a remote or
docker-in-docker engine that cannot see this file system). The tag carries the hash of the three
(`mimo-eval-runner:<version>[-numpy]-<sha12>`), so a change to any builds a new image next to the old one
instead of replacing an image that other checkouts or running pools may still use; old tags are left for the
user to prune (`docker image prune`, `docker rmi`). The full sha256 is also a label, and DockerSandbox refuses
an image whose driver does not match.
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from sandboxes.protocol import RUNNER_FILES

log = logging.getLogger(__name__)
DRIVER_LABEL = "org.mimo-eval.driver-sha256"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
STRIP = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/i18n",
         "usr/share/common-licenses", "var/cache/apt", "var/lib/apt/lists", "usr/lib/python3.11/test",
         "usr/lib/python3.11/idlelib", "usr/lib/python3.11/tkinter", "usr/lib/python3.11/turtledemo",
         "usr/lib/python3.11/ensurepip")


def package_version() -> str:
    """The installed distribution's version, else the source tree's pyproject.toml (not installed yet)."""
    try:
        return metadata.version("mimo-eval")
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        found = re.search(r'^version = "([^"]+)"', pyproject.read_text(), re.M) if pyproject.exists() else None
        if found is None:
            raise RuntimeError("cannot tell the mimo-eval version: pip install -e . first") from None
        return found.group(1)


def image_name(numpy: bool = False) -> str:
    return f"mimo-eval-runner:{package_version()}{'-numpy' if numpy else ''}-{driver_sha256()[:12]}"


def driver_sha256() -> str:
    """Of driver.py, zygote.py and cleanup.py together: a change to any builds a new image."""
    return hashlib.sha256(b"\0".join(path.read_bytes() for path in RUNNER_FILES)).hexdigest()


def image_status(client, name: str) -> str:
    """'ok', 'missing' or 'stale' (built from other runner files)."""
    import docker

    try:
        labels = client.images.get(name).labels or {}
    except docker.errors.ImageNotFound:
        return "missing"
    return "ok" if labels.get(DRIVER_LABEL) == driver_sha256() else "stale"


def build(*, offline: bool, numpy: bool = False, force: bool = False, mirror: str = DEBIAN_MIRROR) -> str:
    import docker

    client = docker.from_env()
    name = image_name(numpy)
    if not force and image_status(client, name) == "ok":
        log.info("%s is up to date", name)
        return name
    base = _offline_base(client, numpy, mirror) if offline else "python:3.11-slim-bookworm"
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copy(Path(__file__).with_name("Dockerfile"), ctx)
        for path in RUNNER_FILES:
            shutil.copy(path, ctx)
        args = {"BASE": base, "WITH_NUMPY": str(int(numpy)), "DRIVER_SHA256": driver_sha256()}
        client.images.build(path=ctx, tag=name, buildargs=args, rm=True, forcerm=True, pull=False)
    log.info("built %s from %s", name, base)
    return name


def _offline_base(client, numpy: bool, mirror: str) -> str:
    """Import a debootstrapped bookworm rootfs once; later builds reuse it."""
    import docker

    base = f"mimo-eval-runner-base:bookworm{'-numpy' if numpy else ''}"
    try:
        client.images.get(base)
        return base
    except docker.errors.ImageNotFound:
        pass
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is missing: apt-get install debootstrap (or run tools/setup_system.sh)")
    include = "python3,python3-numpy" if numpy else "python3"
    with tempfile.TemporaryDirectory(prefix="mimo-rootfs-") as root:
        log.info("debootstrap bookworm into %s (about a minute)", root)
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={include}", "bookworm", root, mirror],
                       check=True, stdout=subprocess.DEVNULL)
        for rel in STRIP:
            shutil.rmtree(Path(root, rel), ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        repo, tag = base.split(":")
        client.api.import_image_from_stream(tar.stdout, repository=repo, tag=tag)
        if tar.wait() != 0:
            raise RuntimeError("tar of the rootfs failed")
    return base


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--offline", action="store_true",
                        help="no registry: debootstrap a Debian rootfs and import it as the base")
    parser.add_argument("--numpy", action="store_true", help="also install numpy (image tag gets -numpy)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the image is up to date")
    parser.add_argument("--mirror", default=DEBIAN_MIRROR, help="Debian mirror for --offline")


def run_from_args(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    name = build(offline=args.offline, numpy=args.numpy, force=args.force, mirror=args.mirror)
    print(name)
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m sandboxes.build", description=__doc__.split("\n")[0])
    add_arguments(p)
    sys.exit(run_from_args(p.parse_args()))
