"""Shared fixtures: a real CK kernel in a temporary CK_REPOS/CK_TOOLS, stdin closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SKIMAGE_DATA = Path(__import__("skimage").__file__).parent / "data"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# Lanes (`make test-fast` runs the unit lane: none of these). A test is in a lane by what it uses.
LANE_FIXTURES = {
    "ck": {"ck_world", "fresh_ck_world", "zoo_world", "worlds", "world", "armnn_world", "tvm_world", "mobilenets",
           "explored"},
    "frameworks": {"zoo_world", "armnn_world", "tvm_world", "mobilenets", "tf_env", "mx_env"},
    "browser": {"browser"},
    "ray": {"ray_cluster"},
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for lane, fixtures in LANE_FIXTURES.items():
            if used & fixtures:
                item.add_marker(lane)


@dataclass
class CkWorld:
    """A private CK installation: its own repos, tools and local repo; our repository registered."""

    root: Path
    env: dict

    @property
    def tools(self) -> Path:
        return Path(self.env["CK_TOOLS"])

    @property
    def repos(self) -> Path:
        return Path(self.env["CK_REPOS"])

    def ck(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run the real `ck` command line (`python -m ck` is the `ck` script) with stdin closed."""
        return self._run([sys.executable, "-m", "ck", *args], check, timeout)

    def ck_started(self, *args: str) -> subprocess.Popen:
        """The real `ck` command line started in the background (stdin closed, output captured)."""
        return subprocess.Popen([sys.executable, "-m", "ck", *args], env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.root)

    def ckrequest(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "-m", "ckrequest.cli", *args], check, timeout)

    def env_entries(self, tags: str) -> list[dict]:
        import json

        return json.loads(self.ck("search", "env", f"--tags={tags}", "--out=json").stdout)["lst"]

    def environment_of(self, tags: str) -> dict:
        """The process environment a CK env entry (and its deps) sets up, e.g. PYTHONPATH of a library."""
        entries = self.env_entries(tags)
        assert entries, f"no CK env entry with tags {tags}"
        script = self.repos / "local" / "env" / entries[0]["data_uid"] / "env.sh"
        out = subprocess.run(["bash", "-c", f'. "{script}" 1 && env -0'], env=self.env, capture_output=True,
                             check=True, stdin=subprocess.DEVNULL).stdout
        return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)

    def model_info(self, tags: str) -> Path:
        """model-info.json of the first model env entry with ``tags``."""
        entry = self.env_entries(tags)[0]
        meta = json.loads((self.repos / "local" / "env" / entry["data_uid"] / ".cm" / "meta.json").read_text())
        return Path(meta["env"]["CK_ENV_MODEL_INFO"])

    def install(self, *packages: str) -> None:
        """Install CK packages unless an env entry with their tags exists already."""
        for package in packages:
            self.ck("install", f"package:{package}", "--quiet", timeout=1800)

    def _run(self, cmd: list[str], check: bool, timeout: float) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, cwd=self.root)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n"
                                 f"{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-4000:]}")
        return proc


def make_world(root: Path) -> CkWorld:
    env = dict(os.environ)
    env.update({
        "CK_REPOS": str(root / "repos"),
        "CK_TOOLS": str(root / "tools"),
        "CK_REQUEST_CACHE_DIR": str(root / "cache"),
    })
    env.pop("CK_LOCAL_REPO", None)
    world = CkWorld(root=root, env=env)
    world.ckrequest("setup")
    return world


@pytest.fixture(scope="session")
def ck_world(tmp_path_factory: pytest.TempPathFactory) -> CkWorld:
    """One CK world shared by the tests of a session (installs are cached in its CK_TOOLS)."""
    return make_world(tmp_path_factory.mktemp("ck"))


@pytest.fixture(scope="session")
def zoo_world(ck_world: CkWorld) -> CkWorld:
    """The session's CK world with the converter/runtime libraries installed in its CK_TOOLS."""
    for package, tags in (("lib-tensorflow", "lib,tensorflow"), ("lib-litert", "lib,litert"),
                          ("lib-openvino", "lib,openvino"), ("lib-mxnet", "lib,mxnet")):
        if not ck_world.env_entries(tags):
            ck_world.install(package)
    return ck_world


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser here)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run make browser as root, or apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def fresh_ck_world(tmp_path: Path) -> CkWorld:
    """A CK world of this test's own."""
    return make_world(tmp_path)


@pytest.fixture(scope="session")
def ray_cluster():
    """A Ray cluster on loopback shared by the session: a head (no CPUs) and two worker nodes of 1 CPU, of
    platforms ``test-a`` and ``test-b`` (resource ``request-platform:<name>``); ``ray_cluster.address`` for
    --ray=, ``add_node(platform)`` / ``kill_node(node)`` for more. Stopped at the end whatever happens."""
    from ckrequest.farm.local import LocalCluster

    cluster = LocalCluster.start([("test-a", 1), ("test-b", 1)])
    try:
        yield cluster
    finally:
        cluster.stop()


@dataclass
class WeightsServer:
    """A real HTTP server on 127.0.0.1 serving files a test puts there (see ``weights_server``)."""

    root: Path
    base_url: str
    truncated: set  # URL paths answered with a Content-Length larger than the body sent
    requested: list  # URL paths asked for, in order

    def put(self, url_path: str, data: bytes, truncated: bool = False) -> str:
        target = self.root / url_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if truncated:
            self.truncated.add("/" + url_path.lstrip("/"))
        return self.base_url + "/" + url_path.lstrip("/")


@pytest.fixture
def weights_server(tmp_path: Path):
    """A local stand-in for a model hub: put files, fetch them from ``base_url``."""
    import http.server
    import threading
    from functools import partial

    server_state = WeightsServer(tmp_path / "served", "", set(), [])
    server_state.root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requested.append(self.path)
            if self.path not in server_state.truncated:
                return super().do_GET()
            data = (server_state.root / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             partial(Handler, directory=str(server_state.root)))
    server_state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server_state
    server.shutdown()
    server.server_close()
    thread.join()
