"""DockerSandbox as infrastructure: the pool under threads, infra errors, leftover cleanup, image and factory.

Covers: concurrent `run` calls from threads (no cross-talk), a container killed or frozen under the pool
(an infra error or a transparent re-run, never a made-up verdict), per-request memory limits, removal of
containers whose owner process was SIGKILLed, no container left after close, the image build being
idempotent, and the factory's errors. Needs a Docker engine and the runner image (tools/setup_system.sh);
in CI (CI=true or MIMO_REQUIRE_DOCKER=1) a missing engine fails instead of skipping.
Run: python -m pytest -q tests/test_sandbox_docker.py
"""
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import docker_sandbox_or_skip

from sandboxes import Limits, get_sandbox

pytestmark = pytest.mark.docker
LIMITS = Limits(time_s=3.0, memory_mb=512)


@pytest.fixture(scope="module")
def sandbox():
    sb = docker_sandbox_or_skip(workers=2)
    yield sb
    sb.close()


def test_threads_share_the_pool_without_crosstalk(sandbox):
    program = "import sys\nn = int(input())\nprint(n * n, sum(range(n)))"
    def submit(k):
        return k, sandbox.run(program, [f"{k + i}\n" for i in range(5)], LIMITS)
    with ThreadPoolExecutor(6) as pool:
        done = list(pool.map(submit, range(12)))
    for k, res in done:
        assert res.infra_error is None
        assert [r.stdout for r in res.results] == [f"{(k + i) ** 2} {sum(range(k + i))}\n" for i in range(5)]
    assert len({res.meta["container"] for _, res in done}) <= 2


def test_container_killed_mid_request_is_never_a_verdict(sandbox):
    warm = sandbox.run("print(1)", [""], LIMITS)
    target = sandbox.client.containers.get(warm.meta["container"])
    killer = threading.Timer(0.5, target.kill)
    killer.start()
    # Both workers get a long request so the killed container is certainly in use.
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: sandbox.run("import time\ntime.sleep(1.5)\nprint('done')", [""], LIMITS),
                                range(2)))
    killer.join()
    for res in results:
        if res.infra_error is None:  # transparently re-run in a fresh container
            assert [(r.status, r.stdout) for r in res.results] == [("ok", "done\n")]
        else:
            assert res.results == ()
    assert any(res.meta.get("attempts") == 2 or res.infra_error for res in results)
    assert sandbox.run("print(2)", [""], LIMITS).results[0].stdout == "2\n"


def test_frozen_container_hits_the_host_deadline(sandbox):
    limits = Limits(time_s=0.2, memory_mb=512)  # host deadline = 0.2 + 0.5 + 5 s
    container = sandbox.client.containers.get(sandbox.run("print(1)", [""], limits).meta["container"])
    with ThreadPoolExecutor(2) as pool:  # keep the other worker busy so the frozen one is taken
        other = pool.submit(sandbox.run, "import time\ntime.sleep(2)", [""], LIMITS)
        time.sleep(0.3)
        container.pause()
        res = sandbox.run("print(3)", [""], limits)
        other.result()
    if res.infra_error is None:  # it ran on the other worker after all
        assert res.results[0].stdout == "3\n"
    else:
        assert "deadline" in res.infra_error and res.results == ()
        assert sandbox.run("print(4)", [""], limits).results[0].stdout == "4\n"


def test_memory_limit_follows_the_request(sandbox):
    program = "x = bytearray(400 << 20)\nprint(len(x) >> 20)"
    small = sandbox.run(program, [""], Limits(time_s=3, memory_mb=256)).results[0]
    large = sandbox.run(program, [""], Limits(time_s=3, memory_mb=1024)).results[0]
    assert (small.status, large.status, large.stdout) == ("memory", "ok", "400\n")


def test_leftovers_of_a_killed_owner_are_removed(sandbox):
    from sandboxes.containers import LABEL

    child = ("import os, signal\nfrom sandboxes.docker import DockerSandbox\nsb = DockerSandbox(workers=1)\n"
             "res = sb.run('print(1)', [''])\nprint(res.meta['container'], flush=True)\n"
             "os.kill(os.getpid(), signal.SIGKILL)")
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    orphan = out.stdout.strip()
    assert orphan and sandbox.client.containers.get(orphan)  # SIGKILL skipped atexit: it is still there
    from sandboxes.docker import DockerSandbox

    DockerSandbox(workers=1).close()  # start-up removes containers whose owner is dead
    names = [c.short_id for c in sandbox.client.containers.list(all=True, filters={"label": LABEL})]
    assert orphan not in names


def test_close_leaves_no_container(sandbox):
    from sandboxes.containers import POOL_LABEL
    from sandboxes.docker import DockerSandbox

    sb = DockerSandbox(workers=2)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: sb.run("import time\ntime.sleep(0.3)", [""], LIMITS), range(2)))
    mine = {"label": f"{POOL_LABEL}={sb.pool_id}"}
    assert len(sb.client.containers.list(all=True, filters=mine)) >= 2
    sb.close()
    assert sb.client.containers.list(all=True, filters=mine) == []


def test_image_build_is_idempotent(sandbox, caplog):
    from sandboxes.build import build, image_name

    caplog.set_level("INFO", logger="sandboxes.build")
    assert build(offline=True) == image_name()
    # the path taken, not the time: up to date, so no debootstrap and no docker build
    assert f"{image_name()} is up to date" in caplog.text and "built " not in caplog.text


def test_docker_kind_names_the_command_to_run(sandbox):
    from sandboxes.docker import DockerUnavailable

    with pytest.raises(DockerUnavailable, match="sandbox build"):
        get_sandbox("docker", image="mimo-eval-runner:does-not-exist")


def test_auto_picks_docker_when_an_engine_answers(sandbox):
    sb = get_sandbox("auto", workers=1)
    try:
        assert type(sb).__name__ == "DockerSandbox"
    finally:
        sb.close()


# (program, stdin, status, stdout, exit code): CPython's own exit semantics, reproduced by the forking driver.
SEMANTICS = [
    ("import sys, threading\nthreading.stack_size(1 << 26)\nsys.setrecursionlimit(10 ** 6)\n"
     "def main():\n    f = lambda n: 0 if n == 0 else f(n - 1) + 1\n    print(f(int(input())))\n"
     "threading.Thread(target=main).start()", "50000\n", "ok", "50000\n", 0),  # threaded-main idiom
    ("import sys\nprint(sys.stdin.buffer.read().split())", "1 2\n", "ok", "[b'1', b'2']\n", 0),
    ("import sys\nprint('partial', end='')\nsys.exit(2)", "", "runtime_error", "partial", 2),
    ("import numpy", "", "runtime_error", "", 1),  # the default image is stdlib only
]


@pytest.mark.parametrize("program,stdin,status,stdout,exit_code", SEMANTICS)
def test_exit_semantics_in_the_container(sandbox, program, stdin, status, stdout, exit_code):
    [r] = sandbox.run(program, [stdin], LIMITS).results
    assert (r.status, r.stdout, r.exit_code) == (status, stdout, exit_code)
