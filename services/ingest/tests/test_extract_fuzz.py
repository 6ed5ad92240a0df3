"""Fuzzing both extractors: whatever the member names and sizes, nothing lands outside the
target folder and nothing but :class:`ArchiveRefused` is raised.

``VIGIL_FUZZ_EXAMPLES`` sets the examples per test (``make fuzz`` raises it); without it each
test keeps its own count.
"""

from __future__ import annotations

import contextlib
import io
import os
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil_common.trees import TreeWriter, unpack_tree
from vigil_ingest.extract import archive_entries
from vigil_ingest.limits import ArchiveRefused, Limits


def _examples(default: int) -> int:
    """The example count: ``VIGIL_FUZZ_EXAMPLES`` when set, else ``default``."""
    return int(os.environ.get("VIGIL_FUZZ_EXAMPLES") or default)


LIMITS = Limits(max_total_bytes=20_000, max_files=8, max_file_bytes=4_000, max_ratio=50)

_PART = st.one_of(
    st.sampled_from(["..", ".", "", "a", "A", "b", "C:", "~", "x.py", "é", "e\u0301", " "]),
    st.text(min_size=1, max_size=12),
)
NAMES = st.builds(
    lambda lead, parts, sep: lead + sep.join(parts),
    st.sampled_from(["", "/", "\\", "./", "../", "C:\\", "//"]),
    st.lists(_PART, min_size=1, max_size=4),
    st.sampled_from(["/", "\\"]),
)
MEMBERS = st.lists(st.tuples(NAMES, st.integers(0, 6_000)), max_size=10)


def _zip(members: list[tuple[str, int]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns on the duplicates we generate on purpose
        for name, size in members:
            zf.writestr(zipfile.ZipInfo(name), b"z" * size)
    return buffer.getvalue()


def _tar(members: list[tuple[str, int]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, size in members:
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(b"t" * size))
    return buffer.getvalue()


def _check(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        archive, dest = root / "upload", root / "sandbox" / "tree"
        archive.write_bytes(data)
        # What a later stage gets: the entries ingest reads, packed, then unpacked.
        with contextlib.suppress(ArchiveRefused), TreeWriter(root / "tree.packed") as writer:
            for entry in archive_entries(archive, fmt, LIMITS, LIMITS.max_file_bytes):
                writer.add(entry.path, entry.data or b"")
        unpack_tree(root / "tree.packed", dest)
        outside = {p for p in root.rglob("*") if dest not in (p, *p.parents)}
        assert outside == {archive, root / "tree.packed", root / "sandbox"}
        assert all(not p.is_symlink() for p in dest.rglob("*"))


@settings(max_examples=_examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MEMBERS)
def test_zip_extraction_stays_inside(members: list[tuple[str, int]]) -> None:
    try:
        data = _zip(members)
    except (ValueError, UnicodeEncodeError):  # zipfile itself refuses some names
        return
    _check(data, "zip")


@settings(max_examples=_examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MEMBERS)
def test_tar_extraction_stays_inside(members: list[tuple[str, int]]) -> None:
    try:
        data = _tar(members)
    except (ValueError, UnicodeEncodeError):
        return
    _check(data, "tar.gz")


@settings(max_examples=_examples(150), deadline=None)
@given(st.binary(max_size=2_000), st.sampled_from(["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"]))
def test_random_bytes_are_refused_not_crashed(data: bytes, fmt: str) -> None:
    _check(data, fmt)
