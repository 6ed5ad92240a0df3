"""The ingest stage's local work on one archive (run as a child so its memory is its own)."""

from __future__ import annotations

import sys
from pathlib import Path

from vigil_common.trees import pack_tree
from vigil_ingest.classify import classify_tree
from vigil_ingest.extract import extract_archive
from vigil_ingest.limits import Limits
from vigil_ingest.summary import build_manifest

archive, workdir = Path(sys.argv[1]), Path(sys.argv[2])
limits = Limits(2**31, 200_000, 2**30, 200)
extract_archive(archive, "zip", workdir / "tree", limits)
result = classify_tree(workdir / "tree", 2 * 1024 * 1024)
manifest = build_manifest(result, None)
pack_tree(workdir / "tree", manifest, workdir / "tree.tar.gz")
print(manifest.total_files)
