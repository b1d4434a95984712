"""The evidence archive (第95条, 第111–118条 監査): every audit run keeps, in a dated folder of its
own, what it wrote and what it saw, so that an auditor can be handed exactly that later.

    OUTDIR/runs/2026-12-02/20261202-101500-3f9a1c/
        report.json report.csv report.html junit.xml
        facts/<host>.json              the facts gathered from each host (as judged)
        manifest.json                  run id, times (JST), lgsec version, catalog SHA-256, the
                                       work record's head, and the SHA-256 of every file above

`lgsec report bundle [RUN]` packs one run folder into RUN.tar.gz and signs it with the site's
SSH key (`ssh-keygen -Y sign`, namespace lgsec-audit): RUN.tar.gz.sig beside it.
`lgsec report verify ARCHIVE` checks the signature against an allowed-signers file
(`ssh-keygen -Y verify`) and every file of the archive against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
from pathlib import Path

from lgsec.errors import InputError
from lgsec.textsafe import storable

NAMESPACE = "lgsec-audit"
MANIFEST = "manifest.json"
WORK_RECORD_HEAD = "work-record.jsonl.head"  # beside the reports (lgsec harden's default --log)
UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def host_file(host: str, taken: set[str]) -> str:
    """A file name for a host's facts: host names come from the inventory and are not trusted as
    paths (no /, no .., nothing hidden); a clash gets a number."""
    base = UNSAFE.sub("_", host).lstrip(".") or "host"
    name, n = f"{base}.json", 1
    while name in taken:
        n += 1
        name = f"{base}-{n}.json"
    taken.add(name)
    return name


def run_folder(outdir: Path, report: dict) -> Path:
    from lgsec.report_data import run_day

    run = report["run"]
    return outdir / "runs" / str(run_day(report)) / str(run["id"])


def archived(facts: dict) -> dict:
    """The facts as the archive keeps them: a network device's configuration without its secrets
    (the Linux and Windows gathers blank theirs on the host)."""
    if isinstance(facts, dict) and isinstance(facts.get("running_config"), str):
        from lgsec.network import redact_config

        return {**facts, "running_config": redact_config(facts["running_config"])}
    return facts


def keep(report: dict, outdir: Path, outputs: dict[str, bytes], facts: dict[str, dict] | None) -> Path:
    """Write the run's folder: its reports, the facts per host and the manifest; returns it."""
    from lgsec.report_data import atomic_write

    folder = run_folder(outdir, report)
    (folder / "facts").mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for name, data in outputs.items():
        atomic_write(folder / name, data)
        files[name] = sha256(data)
    hosts: dict[str, str] = {}
    taken: set[str] = set()
    for host, host_facts in sorted((facts or {}).items()):
        name = host_file(host, taken)
        data = json.dumps(storable(archived(host_facts)), ensure_ascii=False, indent=1, sort_keys=True, default=str)
        data = (data + "\n").encode()
        atomic_write(folder / "facts" / name, data)
        files[f"facts/{name}"] = sha256(data)
        hosts[host] = f"facts/{name}"
    head = outdir / WORK_RECORD_HEAD
    run = report["run"]
    manifest = {
        "run": run["id"],
        "started": run.get("started"),
        "finished": run.get("finished"),
        "timezone": run.get("timezone"),
        "inventory": run.get("inventory"),
        "lgsec_version": run.get("lgsec_version"),
        "catalog": run.get("catalog"),
        "catalog_sha256": run.get("catalog_sha256"),
        "work_record_head": head.read_text(encoding="utf-8").strip() if head.is_file() else None,
        "facts": hosts,
        "files": files,
    }
    atomic_write(folder / MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode())
    return folder


def find_run(outdir: Path, run: str | None) -> Path:
    """The folder of run RUN (its id, or a path to the folder), or the latest run."""
    if run and Path(run).is_dir() and (Path(run) / MANIFEST).is_file():
        return Path(run)
    folders = sorted((outdir / "runs").glob("*/*/" + MANIFEST)) if (outdir / "runs").is_dir() else []
    if run:
        folders = [f for f in folders if f.parent.name == run]
    if not folders:
        what = f"no run {run}" if run else "no run"
        raise InputError(str(outdir / "runs"), "RUN", f"{what} in the archive (run an audit first)")
    return max(folders, key=lambda f: f.parent.name).parent


def ssh_keygen(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["ssh-keygen", *args], input=data, capture_output=True, timeout=60, check=False)
    except FileNotFoundError as exc:
        raise InputError("ssh-keygen", "-", "not found: install openssh-client") from exc


def bundle(folder: Path, key: Path, target_dir: Path) -> tuple[Path, Path]:
    """RUN.tar.gz of the run folder (files in a fixed order, no owner, no times) and its
    signature RUN.tar.gz.sig made with the site's private key."""
    if not key.is_file():
        raise InputError(str(key), "--key", "the site's signing key (an SSH private key) not found")
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in [MANIFEST, *sorted(manifest["files"])]:
            data = (folder / name).read_bytes()
            info = tarfile.TarInfo(f"{folder.name}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    target_dir.mkdir(parents=True, exist_ok=True)
    archive = target_dir / f"{folder.name}.tar.gz"
    archive.write_bytes(buffer.getvalue())
    signature = archive.with_name(archive.name + ".sig")
    signature.unlink(missing_ok=True)
    done = ssh_keygen(["-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(archive)])
    if done.returncode != 0 or not signature.is_file():
        archive.unlink(missing_ok=True)
        why = done.stderr.decode(errors="replace").strip()
        raise InputError(str(key), "--key", f"ssh-keygen -Y sign failed: {why}")
    return archive, signature


def verify(archive: Path, allowed_signers: Path, identity: str) -> list[str]:
    """Problems found ([] when the archive is intact and signed by an allowed key): the
    signature, then every member against the manifest (changed, missing or added files)."""
    if not archive.is_file():
        raise InputError(str(archive), "ARCHIVE", "archive not found")
    signature = archive.with_name(archive.name + ".sig")
    if not signature.is_file():
        return [f"{signature}: no signature beside the archive"]
    if not allowed_signers.is_file():
        raise InputError(str(allowed_signers), "--allowed-signers", "allowed signers file not found")
    data = archive.read_bytes()
    done = ssh_keygen(
        ["-Y", "verify", "-f", str(allowed_signers), "-I", identity, "-n", NAMESPACE, "-s", str(signature)], data
    )
    problems = []
    if done.returncode != 0:
        text = (done.stderr or done.stdout).decode(errors="replace").strip()
        problems.append(f"{archive}: signature not valid for {identity}: {text}")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
            manifest = json.loads(tar.extractfile(members[MANIFEST]).read())
            for name, digest in manifest["files"].items():
                if name not in members:
                    problems.append(f"{name}: listed in the manifest, missing from the archive")
                elif sha256(tar.extractfile(members[name]).read()) != digest:
                    problems.append(f"{name}: content differs from the manifest's SHA-256")
            for name in sorted(set(members) - set(manifest["files"]) - {MANIFEST}):
                problems.append(f"{name}: in the archive, not in the manifest")
    except (tarfile.TarError, KeyError, ValueError, OSError, EOFError) as exc:  # EOFError: a cut gzip stream
        problems.append(f"{archive}: not a readable lgsec archive ({type(exc).__name__}: {exc})")
    return problems
