"""The archive of a workbook and its XML parts, read within a budget: what the parts unpack to, the time, and the
markup expat may hold (see the package's doc)."""

import contextlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from xml.parsers import expat

from opscenter.sheets.bounds import MIB, Deadline, UnreadableFile, quoted

CHUNK = 64 * 1024  # unpacked at a time, and fed to expat
MAX_TOKEN_BYTES = 256 * 1024  # one tag, comment or processing instruction (expat holds it whole)
MAX_DIRECTORY_BYTES = 256 * 1024  # a workbook's central directory lists tens of parts in a few kilobytes
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def open_archive(content: bytes) -> zipfile.ZipFile:
    directory = _directory_size(content)
    if directory > MAX_DIRECTORY_BYTES:
        raise UnreadableFile(
            f"not a workbook: the archive's directory is {directory} bytes, a workbook's is a few kilobytes"
        )
    try:
        return zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error) as exc:
        raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc


def _directory_size(content: bytes) -> int:
    """The size of the central directory as the archive's end record states it (where ``zipfile`` looks for it):
    ``zipfile`` reads that many bytes and makes an object of every entry in them. 0 when there is no end record
    (``zipfile`` then refuses the file itself)."""
    end = len(content) - _EOCD.size
    if end < 0:
        return 0
    if content[end : end + 4] != b"PK\x05\x06":
        end = content.rfind(b"PK\x05\x06", max(0, end - 65_535))
        if end < 0 or end + _EOCD.size > len(content):
            return 0
    size: int = _EOCD.unpack_from(content, end)[5]
    locator = end - _EOCD64_LOCATOR.size
    record = locator - _EOCD64.size
    if (
        record >= 0
        and content[locator : locator + 4] == b"PK\x06\x07"
        and content[record : record + 4] == b"PK\x06\x06"
    ):
        size = max(size, _EOCD64.unpack_from(content, record)[8])
    return size


class Budget:
    """What the parts read so far have unpacked to, against ``Limits.unpacked_bytes``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def _refuse(self, where: str) -> UnreadableFile:
        return UnreadableFile(
            f"the workbook unpacks to more than {self.limit} bytes ({self.limit / MIB:g} MiB), the most a file may: "
            f"{where}"
        )

    def declared(self, archive: zipfile.ZipFile, names: list[str]) -> None:
        """Refuse at once what the archive itself says is too large, before unpacking any of it."""
        infos = [member(archive, name) for name in names]
        if sum(info.file_size for info in infos) > self.left:
            largest = max(infos, key=lambda info: info.file_size)
            raise self._refuse(f"{largest.filename} alone is {largest.file_size} bytes")

    def spend(self, size: int, name: str) -> None:
        self.left -= size
        if self.left < 0:
            raise self._refuse(f"the limit was passed reading {name}")


def member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    try:
        info = archive.getinfo(name)
    except KeyError:
        # Part names are case-insensitive in a package (ECMA-376 part 2); ZIP names are not.
        found = [info for info in archive.infolist() if info.filename.lower() == name.lower()]
        if not found:
            raise UnreadableFile(f"not a readable XLSX workbook: it has no part {name}") from None
        info = found[0]
    if info.flag_bits & 0x1:
        raise UnreadableFile(f"{name} is encrypted: save the workbook without a password")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnreadableFile(f"{name} is packed with method {info.compress_type}; a workbook is packed with deflate")
    return info


Handler = Callable[..., None]


def _refuse_declarations(part: str) -> tuple[Handler, Handler]:
    """The handlers that refuse a DTD, and an entity declaration, in ``part``."""

    def doctype(name: str, *_: Any) -> None:
        raise UnreadableFile(f"{part} declares a document type ({quoted(name)}); a workbook's XML never does")

    def entity(name: str, *_: Any) -> None:
        raise UnreadableFile(f"{part} declares an entity ({quoted(name)}); a workbook's XML never does")

    return doctype, entity


def tag_of(name: str) -> str:
    """``tag`` of ``"http://…/main tag"``: namespaces differ between transitional and strict workbooks."""
    return name.rpartition(" ")[2]


def parse(
    archive: zipfile.ZipFile,
    name: str,
    budget: Budget,
    deadline: Deadline,
    *,
    start: Handler,
    end: Handler | None = None,
    text: Handler | None = None,
) -> Iterator[None]:
    """Part ``name`` through expat, a chunk at a time as it unpacks; yields after each chunk, so that a caller can
    take what the handlers collected (or stop reading)."""
    info = member(archive, name)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    # An entity is declared only inside a DTD, which is refused first: the second handler is a second lock.
    parser.StartDoctypeDeclHandler, parser.EntityDeclHandler = _refuse_declarations(name)
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    fed = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(CHUNK):
                fed += len(chunk)
                budget.spend(len(chunk), name)
                deadline.check()
                parser.Parse(chunk, False)
                if fed - parser.CurrentByteIndex > MAX_TOKEN_BYTES:
                    raise UnreadableFile(f"{name} holds a piece of markup longer than {MAX_TOKEN_BYTES} bytes")
                yield
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnreadableFile(f"{name} is not well-formed XML: {exc}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise UnreadableFile(f"{name} is damaged: {exc}") from exc
    yield


def run(parse: Iterator[None]) -> None:
    """The whole part through its handlers."""
    for _ in parse:
        pass


class Stop(Exception):
    """Raised by a handler that has read what it needs; the rest of the part is not read."""


def until_done(parse: Iterator[None]) -> None:
    """``run``, for handlers that may raise ``Stop``."""
    with contextlib.suppress(Stop):
        run(parse)
