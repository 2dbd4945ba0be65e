"""Redis servers of a test's own: one to stop and restart (never the shared one), or a cluster.

`redis-server` runs on free loopback ports with its files in a temporary folder that is removed
afterwards. `RedisServer(persistent=True)` keeps its data across a restart (append-only file,
fsync on every write), as a production Redis would; without it a restart loses everything.
`RedisCluster` starts three masters (`--cluster-enabled yes`, no replicas) and joins them with
`redis-cli --cluster create`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster as ClusterClient
from redis.exceptions import RedisError

from rita_testing.helpers import eventually, free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
_START_SECONDS = 10.0
_PORT_ATTEMPTS = 3


async def _answers(check: Callable[[], Awaitable[bool]]) -> bool:
    """`check()`, with a server that is not up yet counted as a no."""
    try:
        return await check()
    except (RedisError, OSError):
        return False


class RedisServer:
    """One redis-server on 127.0.0.1; `stop()` and `start()` again keep its port."""

    def __init__(
        self, *, persistent: bool = False, cluster: bool = False, folder: Path | None = None
    ) -> None:
        self.port = free_port()
        self.bus_port = free_port() if cluster else 0
        self._started = False
        self._persistent = persistent
        self._cluster = cluster
        self._own_folder = folder is None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="rita-redis-"))
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _args(self) -> list[str]:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--dir", str(self.folder), "--save", "", "--daemonize", "no"]
        if self._persistent:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        if self._cluster:
            config = self.folder / f"nodes-{self.port}.conf"
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(config)]
            args += ["--cluster-port", str(self.bus_port)]
            args += ["--appendfilename", f"appendonly-{self.port}.aof"]
        return args

    async def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING.

        A free port can be taken by another process before the server binds it (the machine
        is shared): a first start then tries new ports. A restart keeps its port.
        """
        for _attempt in range(_PORT_ATTEMPTS):
            self.proc = await asyncio.create_subprocess_exec(
                *self._args(),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            if await self._answers_ping():
                self._started = True
                return
            if self._started:
                break
            self.port = free_port()
            self.bus_port = free_port() if self._cluster else 0
        raise AssertionError(f"redis-server could not start on 127.0.0.1:{self.port}")

    async def _answers_ping(self) -> bool:
        """True once it answers; False if the process exited first (it could not bind)."""
        proc = self.proc
        client = aioredis.from_url(self.url)

        async def up() -> bool:
            return (proc is None or proc.returncode is not None) or await _answers(client.ping)

        try:
            await eventually(up, _START_SECONDS, what=f"redis-server on port {self.port}")
        finally:
            await client.aclose()
        return proc is not None and proc.returncode is None

    async def stop(self) -> None:
        """Kill the server (SIGKILL: an outage, not a clean shutdown)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.proc = None

    async def close(self) -> None:
        """Stop and remove its files."""
        await self.stop()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def __aenter__(self) -> RedisServer:
        await self.start()
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()


class RedisCluster:
    """Three cluster-mode masters on loopback, joined into one cluster (16384 slots covered)."""

    def __init__(self, nodes: int = 3) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="rita-redis-cluster-"))
        self.nodes = [RedisServer(cluster=True, folder=self.folder) for _ in range(nodes)]

    @property
    def url(self) -> str:
        """Any node's URL: a cluster client discovers the others."""
        return self.nodes[0].url

    def node_for(self, client: ClusterClient, key: str) -> RedisServer:
        """The node that owns `key`'s slot (as `client` sees the cluster), e.g. to stop it."""
        owner = client.get_node_from_key(key)
        if owner is None:
            raise AssertionError(f"no node owns {key!r}")
        [node] = [n for n in self.nodes if n.port == owner.port]
        return node

    async def start(self) -> None:
        """Start the nodes, create the cluster, wait until every node reports `cluster_state:ok`."""
        await asyncio.gather(*(node.start() for node in self.nodes))
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        create = await asyncio.create_subprocess_exec(
            REDIS_CLI,
            "--cluster",
            "create",
            *addresses,
            "--cluster-replicas",
            "0",
            "--cluster-yes",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await create.communicate()
        if create.returncode != 0:
            raise AssertionError(f"redis-cli --cluster create failed: {output.decode()[-500:]}")
        for node in self.nodes:
            client = aioredis.from_url(node.url)
            try:

                async def ready(c: aioredis.Redis = client) -> bool:
                    info = await c.execute_command("CLUSTER", "INFO")  # type: ignore[no-untyped-call]
                    text = info.decode() if isinstance(info, bytes) else str(info)
                    return "cluster_state:ok" in text

                await eventually(
                    lambda: _answers(ready), _START_SECONDS, what=f"cluster ok on port {node.port}"
                )
            finally:
                await client.aclose()

    async def close(self) -> None:
        """Stop every node and remove the files."""
        await asyncio.gather(*(node.stop() for node in self.nodes))
        shutil.rmtree(self.folder, ignore_errors=True)

    async def __aenter__(self) -> RedisCluster:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()
