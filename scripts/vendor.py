#!/usr/bin/env python3
"""Vendor the console's and the API documentation's front-end files from the npm registry into the static files.

Government intranets (政务外网) have no internet: every script, style sheet and font a page loads must be served
by OpsCenter itself. This script is the one way those files get here. Each package is pinned to a version and to
the registry's own integrity hash (SHA-512 of the tarball, npm's ``dist.integrity``): a tarball that does not
match is refused before anything is written. The files taken are listed below; their SHA-256 sums go to
``SHA256SUMS`` beside them, which the test suite checks offline against the committed files.

Run it only to change a version (edit ``PACKAGES``; the new integrity hash comes from
``npm view NAME@VERSION dist.integrity``), then commit the files it wrote:

    python3 scripts/vendor.py            # download, check, write
    python3 scripts/vendor.py --check    # only check the committed files against SHA256SUMS (no network)
"""

import argparse
import base64
import hashlib
import io
import shutil
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "opscenter" / "console" / "static" / "vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str  # the npm package
    version: str
    integrity: str  # npm's dist.integrity of the tarball: "sha512-<base64>"
    folder: str  # where its files go under TARGET
    files: dict[str, str]  # path inside the tarball (after "package/") → file name in the folder

    @property
    def tarball(self) -> str:
        bare = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{bare}-{self.version}.tgz"


PACKAGES = [
    # The console's CSS toolkit for admin pages (MIT).
    Package(
        "@tabler/core",
        "1.6.1",
        "sha512-lgmR9gcxRp5JlLxcmRi9Rz85JrEvH6Bz71KnlcPVSa97wtwQNjgSs3g3fxwbAlulHyRMghhIV04QUuW3pqDsIg==",
        "tabler",  # its licence (MIT) is in the files' headers: the tarball has no LICENSE file
        {"dist/css/tabler.min.css": "tabler.min.css", "dist/js/tabler.min.js": "tabler.min.js"},
    ),
    # Server-rendered pages that update in place (BSD-2-Clause).
    Package(
        "htmx.org",
        "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        "htmx",
        {"dist/htmx.min.js": "htmx.min.js", "LICENSE": "LICENSE"},
    ),
    # The overview's charts (Apache-2.0).
    Package(
        "echarts",
        "5.6.0",
        "sha512-oTbVTsXfKuEhxftHqL5xprgLoc0k7uScAwtryCgWF6hPYFLRwOUHiFmHGCBKP5NPFNkDVopOieyUqYGH8Fa3kA==",
        "echarts",
        {"dist/echarts.min.js": "echarts.min.js", "LICENSE": "LICENSE"},
    ),
    # The API documentation pages under /schema (Apache-2.0, MIT, MIT, Apache-2.0).
    Package(
        "swagger-ui-dist",
        "5.35.0",
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        "swagger-ui",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui-standalone-preset.js": "swagger-ui-standalone-preset.js",
            "swagger-ui.css": "swagger-ui.css",
            "LICENSE": "LICENSE",
        },
    ),
    Package(
        "redoc",
        "2.5.4",
        "sha512-M6jWhG1qoBnH6TFmzJnstyCZ87HmOY/UzDm78mHiYihEdlV/YcS9ogOo1NlElnJMeLsyxHFe2yFc4sNjHTrABQ==",
        "redoc",
        {"bundles/redoc.standalone.js": "redoc.standalone.js", "LICENSE": "LICENSE"},
    ),
    Package(
        "rapidoc",
        "9.3.8",
        "sha512-eCYEbr1Xr8OJZvVCw8SXl9zBCRoLJbhNGuG5IZTHq/RWAOq/O4MafUCuFEyZHsrhLrlUcGZMa64pyhpib8fQKQ==",
        "rapidoc",
        {"dist/rapidoc-min.js": "rapidoc-min.js", "LICENSE.txt": "LICENSE"},
    ),
    Package(
        "@stoplight/elements",
        "9.0.25",
        "sha512-rDbNsgSCNo74lyV57cBzym+8F68/R2j7UPq4r3w5qK608vX8APNJhTq+2MkbTjsM3bUhFIoRdI225tlI85KpCA==",
        "elements",
        {"web-components.min.js": "web-components.min.js", "styles.min.css": "styles.min.css", "LICENSE": "LICENSE"},
    ),
    # The accessibility check the browser tests run on every console page (MPL-2.0); served only to the tests'
    # pages, never linked from the console.
    Package(
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        "axe-core",
        {"axe.min.js": "axe.min.js", "LICENSE": "LICENSE"},
    ),
]

SUMS = TARGET / "SHA256SUMS"


def _download(package: Package) -> bytes:
    with urllib.request.urlopen(package.tarball, timeout=120) as answer:  # noqa: S310 (a fixed https URL)
        content: bytes = answer.read()
    algorithm, _, expected = package.integrity.partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(content).digest()).decode() != expected:
        raise SystemExit(f"{package.name}@{package.version}: the tarball does not match its pinned integrity hash")
    return content


def _extract(package: Package, tarball: bytes) -> dict[str, bytes]:
    taken: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for inner, name in package.files.items():
            member = archive.getmember(f"package/{inner}")
            data = archive.extractfile(member)
            if data is None:
                raise SystemExit(f"{package.name}: {inner} is not a file")
            taken[f"{package.folder}/{name}"] = data.read()
    return taken


def _sums(files: dict[str, bytes]) -> str:
    header = "".join(f"# {package.name}@{package.version}\n" for package in PACKAGES)
    return header + "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items()))


def vendor() -> None:
    files: dict[str, bytes] = {}
    for package in PACKAGES:
        print(f"{package.name}@{package.version} …", file=sys.stderr)
        files.update(_extract(package, _download(package)))
    if TARGET.exists():
        shutil.rmtree(TARGET)
    for path, data in files.items():
        (TARGET / path).parent.mkdir(parents=True, exist_ok=True)
        (TARGET / path).write_bytes(data)
    SUMS.write_text(_sums(files), encoding="utf-8")
    print(f"{len(files)} files in {TARGET.relative_to(ROOT)}", file=sys.stderr)


def check() -> list[str]:
    """What differs between the committed files, SHA256SUMS and the pins above (empty when all agree)."""
    if not SUMS.exists():
        return [f"{SUMS.relative_to(ROOT)} is missing: run scripts/vendor.py"]
    lines = SUMS.read_text(encoding="utf-8").splitlines()
    pinned = [line[2:] for line in lines if line.startswith("# ")]
    problems = []
    if pinned != [f"{package.name}@{package.version}" for package in PACKAGES]:
        problems.append("SHA256SUMS was written for other versions than scripts/vendor.py pins: run it again")
    expected = {f"{package.folder}/{name}" for package in PACKAGES for name in package.files.values()}
    listed = {}
    for line in lines:
        if line and not line.startswith("# "):
            digest, path = line.split("  ", 1)
            listed[path] = digest
    if set(listed) != expected:
        problems.append(f"SHA256SUMS lists {sorted(set(listed) ^ expected)} differently from the pins")
    present = {str(path.relative_to(TARGET)) for path in TARGET.rglob("*") if path.is_file() and path != SUMS}
    problems += [f"{path} is not a vendored file" for path in sorted(present - set(listed))]
    for path, digest in sorted(listed.items()):
        file = TARGET / path
        if not file.exists():
            problems.append(f"{path} is missing")
        elif hashlib.sha256(file.read_bytes()).hexdigest() != digest:
            problems.append(f"{path} differs from its SHA-256 in SHA256SUMS")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="check the committed files; no network")
    if parser.parse_args().check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        raise SystemExit(1 if problems else 0)
    vendor()


if __name__ == "__main__":
    main()
