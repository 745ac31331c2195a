"""The README's curl lines, run in order against the app: each succeeds, the commented answers
hold, and the fan-out call processes the sample blobs that scripts/seed_samples.py uploads."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from app_common import names

from .conftest import all_instances

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import seed_samples  # noqa: E402


def readme_calls() -> list[tuple[str, str, object, str]]:
    """(method, path, JSON body or None, comment) for each curl line of the README's first block."""
    calls = []
    for line in (ROOT / "README.md").read_text().splitlines():
        if not line.startswith("curl "):
            continue
        command, _, comment = line.partition("  # ")
        words = shlex.split(command.replace("$BASE", ""))
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        body = json.loads(words[words.index("-d") + 1]) if "-d" in words else None
        path = next(word for word in words if word.startswith("/api/"))
        calls.append((method, path, body, comment.strip().lstrip("# ")))
    return calls


def test_seeding_is_idempotent(azurite, blob_service):
    run = [sys.executable, "scripts/seed_samples.py", "--connection", azurite]
    first = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    again = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert re.fullmatch(r"seed: 4 sample blobs in input/2024/05/ \(\d uploaded\)\n", first)
    assert again == "seed: 4 sample blobs in input/2024/05/ (0 uploaded)\n"
    listed = {b.name for b in blob_service.get_container_client("input").list_blobs(name_starts_with="2024/05/")}
    assert listed >= {name for _, name in seed_samples.sample_blobs()}


async def test_the_readme_calls_work_as_written(env, blob_service):
    seed_samples.seed(blob_service, seed_samples.sample_blobs())
    ids: dict[str, str] = {}
    for method, path, body, comment in readme_calls():
        # <id>: the id the same resource's POST answered; <jobId>: the job started above
        path = re.sub(r"<(id|jobId)>", lambda m: ids[path.split("/")[2] if m[1] == "id" else "jobs"], path)
        kwargs = {"json": body} if body is not None else {}
        async with env.request(method, path, **kwargs) as response:
            text = await response.text()
        assert response.status < 300, (method, path, response.status, text)
        answer = json.loads(text) if text else None
        if isinstance(answer, dict) and "id" in answer:
            ids[path.split("/")[2]] = answer["id"]
        if comment.startswith("{"):
            assert answer == json.loads(comment.split("}:")[0] + "}"), (path, comment)
        await env.settle()

    fan_out = next(i for i in await all_instances(env) if i["name"] == names.FAN_OUT_FAN_IN)
    done = await env.wait(fan_out["instanceId"], timeout=60)
    assert done["output"]["blob_count"] == len(seed_samples.sample_blobs()) == 4
