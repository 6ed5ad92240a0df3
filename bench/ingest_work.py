"""The ingest stage's local work on one archive (run as a child so its memory is its own)."""

from __future__ import annotations

import sys
from pathlib import Path

from vigil_common.config import load_settings
from vigil_ingest.sources import classify_upload
from vigil_ingest.summary import build_manifest

archive, workdir = Path(sys.argv[1]), Path(sys.argv[2])
workdir.mkdir(parents=True, exist_ok=True)
settings = load_settings({
    "VIGIL_MAX_ARCHIVE_BYTES": str(2**31), "VIGIL_MAX_ARCHIVE_FILES": "200000",
    "VIGIL_MAX_FILE_BYTES": str(2**30), "VIGIL_MAX_COMPRESSION_RATIO": "200",
})  # fmt: skip
result = classify_upload(archive, "zip", settings, workdir / "tree.packed")
print(build_manifest(result, None).total_files)
