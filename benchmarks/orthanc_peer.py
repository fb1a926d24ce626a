"""Orthanc as a benchmark peer: import files through its REST API inside a private network namespace.

Orthanc 1.10 (Debian package ``orthanc``) cannot bind to loopback only, so it is started inside
``unshare -n`` (a network namespace holding nothing but ``lo``), together with the HTTP clients that
feed it: :func:`orthanc_import` re-runs this file as ``unshare -n python orthanc_peer.py ...``; the
child brings ``lo`` up, writes a minimal configuration (its default SQLite index and file storage in
a fresh temporary directory, no compression, no plugins, DICOM server off), starts ``Orthanc``, waits
until ``GET /system`` answers, then times ``POST /instances`` of every file from ``clients`` threads,
each with its own keep-alive ``http.client`` connection (files are read inside the timed loop, from
the page cache), checks every answer (HTTP 200, ``"Status": "Success"``) and the final instance count
(``GET /statistics``), stops Orthanc with SIGTERM and waits until it has exited.

Nothing here is dicomkit: the benchmarks compare against these numbers.

    python benchmarks/orthanc_peer.py --help      # the child; normally started by orthanc_import()
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ORTHANC = "Orthanc"
HTTP_PORT = 8042


def available() -> str | None:
    """Why Orthanc cannot be used here, or ``None`` when it can."""
    for tool in (ORTHANC, "unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    return None


def orthanc_version() -> str:
    try:
        out = subprocess.run([ORTHANC, "--version"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    return out.splitlines()[0].strip() if out else "unknown"


def orthanc_import(files: Sequence[Path], *, clients: int = 2, work: Path | None = None) -> dict[str, Any]:
    """Start a fresh Orthanc in a private network namespace and POST ``files`` to it.

    Returns ``{"files", "seconds", "files_per_s", "instances", "version", ...}``; raises
    ``RuntimeError`` with Orthanc's log tail when anything fails.
    """
    reason = available()
    if reason:
        raise RuntimeError(f"Orthanc peer unavailable: {reason}")
    with tempfile.TemporaryDirectory(prefix="dkbench-orthanc-", dir=work) as tmp:
        tmpdir = Path(tmp)
        listing = tmpdir / "files.txt"
        listing.write_text("\n".join(str(p) for p in files) + "\n")
        out = tmpdir / "result.json"
        cmd = [
            "unshare",
            "-n",
            "--",
            sys.executable,
            str(Path(__file__).resolve()),
            "--files-from",
            str(listing),
            "--work",
            str(tmpdir / "orthanc"),
            "--clients",
            str(clients),
            "--json",
            str(out),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"Orthanc import failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


# --------------------------------------------------------------------------- child (inside the namespace)


def _config(work: Path) -> dict[str, Any]:
    db = work / "db"
    return {
        "Name": "DKBENCH-ORTHANC",
        "StorageDirectory": str(db),
        "IndexDirectory": str(db),
        "StorageCompression": False,
        "Plugins": [],
        "HttpServerEnabled": True,
        "HttpPort": HTTP_PORT,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomServerEnabled": False,
        "SaveJobs": False,
    }


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> Any:
    headers = {"Content-Type": "application/dicom"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


def _get(path: str) -> Any:
    """One GET on a fresh connection (Orthanc closes idle keep-alive connections)."""
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
    try:
        return _request(conn, "GET", path)
    finally:
        conn.close()


def _wait_ready(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Orthanc exited during start-up (status {proc.returncode})")
        try:
            _get("/system")
            return
        except (OSError, RuntimeError, http.client.HTTPException):
            time.sleep(0.1)
    raise RuntimeError("Orthanc did not answer GET /system within 30 s")


def _post_all(files: list[Path], clients: int) -> tuple[float, list[str]]:
    todo: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
    for path in files:
        todo.put(path)
    for _ in range(clients):
        todo.put(None)
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=120)
        conn.connect()
        start.wait()
        while (path := todo.get()) is not None:
            try:
                answer = _request(conn, "POST", "/instances", path.read_bytes())
                if not isinstance(answer, dict) or answer.get("Status") not in ("Success", "AlreadyStored"):
                    errors.append(f"{path}: {answer}")
            except (OSError, RuntimeError, http.client.HTTPException) as exc:
                errors.append(f"{path}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=120)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, errors


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    t0 = time.perf_counter()
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"Orthanc did not stop within {timeout:.0f} s of SIGTERM (killed)") from None
    return time.perf_counter() - t0


def child(files: list[Path], work: Path, clients: int) -> dict[str, Any]:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work.mkdir(parents=True, exist_ok=True)
    config = work / "orthanc.json"
    config.write_text(json.dumps(_config(work), indent=2))
    log_path = work / "orthanc.log"
    with open(log_path, "wb") as log:
        # cwd as a keyword, never `cd X && Orthanc &`: the Popen pid is Orthanc's own pid.
        proc = subprocess.Popen([ORTHANC, str(config)], cwd=work, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc)
        system = _get("/system")
        seconds, errors = _post_all(files, clients)
        stats = _get("/statistics")
    except BaseException:
        _stop(proc)
        sys.stderr.write(log_path.read_text(errors="replace")[-3000:])
        raise
    stop_s = _stop(proc)
    log_text = log_path.read_text(errors="replace")
    return {
        "files": len(files),
        "clients": clients,
        "seconds": seconds,
        "files_per_s": len(files) / seconds,
        "instances": int(stats["CountInstances"]),
        "disk_mib": float(stats.get("TotalDiskSizeMB", 0)),
        "errors": errors[:20],
        "error_count": len(errors),
        "version": str(system.get("Version")),
        "database_version": system.get("DatabaseVersion"),
        "stop_seconds": stop_s,
        "stopped_cleanly": "Orthanc has stopped" in log_text,
    }


def _in_host_namespace() -> bool:
    """True unless this network namespace has no interface but ``lo`` (what ``unshare -n`` gives)."""
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return any(line.split(":", 1)[0].strip() != "lo" for line in lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files-from", type=Path, required=True, help="a file listing the files, one a line")
    ap.add_argument("--work", type=Path, required=True, help="Orthanc's configuration and storage (created)")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args(argv)
    if _in_host_namespace():
        ap.error("run inside a private network namespace (unshare -n): Orthanc binds to 0.0.0.0")
    files = [Path(line) for line in args.files_from.read_text().splitlines() if line]
    result = child(files, args.work, args.clients)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
