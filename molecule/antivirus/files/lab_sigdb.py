#!/usr/bin/env python3
"""Build the lab's ClamAV signature database: an unsigned container (.cud) that clamd loads.

The lab has no path to a signature mirror, and only ClamAV's own key can sign a .cvd/.cld.
An unsigned .cud has the same layout: a 512-byte "ClamAV-VDB:" header (build time, version,
signature count, functionality level, MD5, signature, builder, build time in Unix seconds),
then a gzip'd tar of the signature files and a .info file repeating the header and listing
each file's size and SHA-256. clamd refuses the container if the two headers disagree.

The only signature is the MD5 of the lab's own harmless sample file (.hdb: md5:size:name),
so a scan that reports it FOUND proves clamd loaded this database.

  lab_sigdb.py OUT.cud SAMPLE_FILE [--age-days N] [--version N]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import tarfile
import time

FLEVEL = 213  # the functionality level sigtool 1.4 writes
NAME = "Lgsec.Lab.Sample"


def header(built: int, version: int, sigs: int, md5: str) -> str:
    stamp = time.strftime("%d %b %Y %H-%M +0000", time.gmtime(built))
    return f"ClamAV-VDB:{stamp}:{version}:{sigs}:{FLEVEL}:{md5}:X:lgsec-lab:{built}"


def build(out: str, sample: bytes, built: int, version: int) -> None:
    base = os.path.basename(out).rsplit(".", 1)[0]
    hdb = f"{hashlib.md5(sample).hexdigest()}:{len(sample)}:{NAME}\n".encode()
    info = f"{header(built, version, 1, 'X')}\n{base}.hdb:{len(hdb)}:{hashlib.sha256(hdb).hexdigest()}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in ((f"{base}.info", info), (f"{base}.hdb", hdb)):
            entry = tarfile.TarInfo(name)
            entry.size, entry.mtime, entry.mode = len(data), built, 0o644
            tar.addfile(entry, io.BytesIO(data))
    body = gzip.compress(raw.getvalue(), mtime=built)
    head = header(built, version, 1, hashlib.md5(body).hexdigest()).encode().ljust(512, b" ")
    with open(out, "wb") as handle:
        handle.write(head + body)
    os.utime(out, (built, built))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("sample")
    parser.add_argument("--age-days", type=float, default=0.0, help="build time this many days ago")
    parser.add_argument("--version", type=int, default=1)
    args = parser.parse_args()
    with open(args.sample, "rb") as handle:
        sample = handle.read()
    build(args.out, sample, int(time.time() - args.age_days * 86400), args.version)


if __name__ == "__main__":
    main()
