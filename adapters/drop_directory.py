"""The directory an agency's legacy system drops its exports into, read defensively.

A drop is complete when it has its final name, ``<prefix><YYYYMMDDTHHMMSS>.<csv|xlsx>`` (the
export time): the system writes under another name and renames when done, so anything else
in the directory (temporary, partial, hidden or lock files) is ignored. Only regular files
are read: a symbolic link, whatever it points to, is refused (it could lead outside the
directory), and files are opened relative to the directory without following links, so a
file swapped for a link after listing is refused too. A file is read only up to its size
bound.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

__all__ = ["DropDirectory", "DropFile", "DropRefused"]

FORMATS: Final = ("csv", "xlsx")
_PREFIX: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_STAMP_FORMAT: Final = "%Y%m%dT%H%M%S"


class DropRefused(Exception):
    """A drop that will not be read (too large, not a regular file, malformed content)."""


@dataclass(frozen=True, slots=True, order=True)
class DropFile:
    """A complete drop. Ordered by export time (then name): the last one is the newest."""

    stamp: str
    name: str
    format: str = field(compare=False)
    # What identifies this version of the file: a file rewritten in place is read again.
    identity: tuple[int, int, int] = field(compare=False, default=(0, 0, 0))


class DropDirectory:
    def __init__(self, path: Path, prefix: str, formats: tuple[str, ...] = FORMATS) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"file prefix {prefix!r}: letters, digits, '_' and '-' only")
        unknown = set(formats) - set(FORMATS)
        if not formats or unknown:
            raise ValueError(f"file formats must be among {FORMATS}, not {list(formats)}")
        self.path = path
        self._pattern = re.compile(re.escape(prefix) + r"([0-9]{8}T[0-9]{6})\.("
                                   + "|".join(formats) + ")")

    def parse_name(self, name: str) -> tuple[str, str] | None:
        """(export time, format) of a complete drop's name; None for any other name."""
        match = self._pattern.fullmatch(name)
        if match is None:
            return None
        try:
            datetime.strptime(match.group(1), _STAMP_FORMAT)  # a name's stamp, not a time
        except ValueError:
            return None
        return match.group(1), match.group(2)

    def complete_files(self) -> list[DropFile]:
        """The complete drops, oldest first. OSError when the directory cannot be read."""
        files = []
        directory = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    parsed = self.parse_name(entry.name)
                    if parsed is None or entry.is_symlink() or not entry.is_file(
                            follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    files.append(DropFile(parsed[0], entry.name, parsed[1],
                                          (info.st_ino, info.st_size, info.st_mtime_ns)))
        finally:
            os.close(directory)
        return sorted(files)

    def read(self, drop: DropFile, max_bytes: int) -> bytes:
        """The file's bytes. DropRefused if it is no longer a regular file of the directory or
        holds more than ``max_bytes``; OSError if it cannot be read."""
        directory = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                descriptor = os.open(drop.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
                                     | os.O_NONBLOCK, dir_fd=directory)
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise DropRefused("is a symbolic link") from None
                raise
        finally:
            os.close(directory)
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise DropRefused("is not a regular file")
            if info.st_size > max_bytes:
                raise DropRefused(f"holds {info.st_size:,} bytes, over the bound of "
                                  f"{max_bytes:,}")
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:  # grew while being read
            raise DropRefused(f"holds over {max_bytes:,} bytes")
        return data
