"""The HTTP floor of `bench api`: a bare Starlette app answering each measured path with the
exact bytes the project answered it with, served by the same uvicorn settings (workers,
loopback) and loaded by the same generator. Whatever the project costs above this floor is
its own: routing, dependencies, policy, rate limit, SQL, encoding, middlewares.

`floor_app` is a uvicorn factory (each worker process builds its own), reading the answers
from the JSON file named by `HMS_BENCH_FLOOR_ANSWERS`: {"path?query": [status, base64 body]}.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hms_desktop.bench.common import running

ANSWERS_VARIABLE = "HMS_BENCH_FLOOR_ANSWERS"


def floor_app() -> Starlette:
    answers = {
        target: Response(base64.b64decode(body), status_code=status, media_type="application/json")
        for target, (status, body) in json.loads(
            Path(os.environ[ANSWERS_VARIABLE]).read_text()
        ).items()
    }

    async def answer(request: Request) -> Response:
        query = request.url.query
        return answers[request.url.path + (f"?{query}" if query else "")]

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET"])])


@contextmanager
def served_floor(answers: dict[str, tuple[int, bytes]], workers: int, port: int) -> Iterator[str]:
    """The floor app under uvicorn with `workers` processes on `port`; its base URL."""
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    path = folder / f"hms-bench-floor-{os.getpid()}-{port}.json"
    path.write_text(
        json.dumps(
            {
                target: [status, base64.b64encode(body).decode()]
                for target, (status, body) in answers.items()
            }
        )
    )
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "hms_desktop.bench.floor:floor_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env={**os.environ, ANSWERS_VARIABLE: str(path)})
    url = f"http://127.0.0.1:{port}"
    probe = next(iter(answers))
    try:
        # Any answer will do: the floor repeats what the server said, errors included.
        with running(process, url + probe, "the floor server", start_seconds=30, any_status=True):
            yield url
    finally:
        path.unlink(missing_ok=True)
