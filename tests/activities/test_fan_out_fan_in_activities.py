from __future__ import annotations

import hashlib

from activities.fan_out_fan_in import list_blobs, process_blob, write_summary
from app_common.settings import input_container, results_container
from tests.blobs import read_json_blob


def test_list_process_and_summarize(blob_service, unique):
    container = f"act-{unique}"
    blob_service.create_container(container)
    contents = {"in/a.txt": b"hello", "in/b.txt": b"", "in/sub/c.bin": bytes(range(256)) * 20, "out/x": b"no"}
    for name, data in contents.items():
        blob_service.get_blob_client(container, name).upload_blob(data)

    listing = list_blobs({"container": container, "prefix": "in/"})
    assert listing == {"container": container, "names": ["in/a.txt", "in/b.txt", "in/sub/c.bin"]}

    stats = [process_blob({"container": container, "name": name}) for name in listing["names"]]
    assert stats[2] == {"name": "in/sub/c.bin", "size": 5120,
                        "sha256": hashlib.sha256(contents["in/sub/c.bin"]).hexdigest()}

    summary = write_summary({"instance_id": f"i-{unique}", "container": container, "prefix": "in/", "blobs": stats})
    assert summary == {"container": container, "prefix": "in/", "blob_count": 3, "total_bytes": 5125,
                       "summary_blob": f"{results_container()}/summaries/i-{unique}.json"}
    stored = read_json_blob(blob_service, results_container(), f"summaries/i-{unique}.json")
    assert stored["blobs"] == stats and stored["total_bytes"] == 5125


def test_list_blobs_defaults_to_input_container_and_tolerates_a_missing_one(unique):
    assert list_blobs({"container": None, "prefix": f"nothing-{unique}/"}) == {"container": input_container(),
                                                                            "names": []}
    assert list_blobs({"container": f"missing-{unique}", "prefix": ""})["names"] == []
