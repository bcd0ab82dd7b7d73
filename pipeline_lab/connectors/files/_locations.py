"""Where files are: local paths, globs and fsspec URLs; what they match; atomic publishing.

A :class:`Location` is a file, a folder (a partitioned dataset) or a glob, either on this
machine (an absolute path; relative paths resolve against the current working directory) or
behind an fsspec URL (``memory://``, ``s3://``, ``gs://``, ...). Writes go through
:func:`staged`: the new content is written beside the target and replaces it in one rename,
so a crash never leaves a half-written file where the previous one was.

A location may be held inside a ``root`` folder (a managed source's): :meth:`Location.escapes`
says where a path really leads once ``..`` and symbolic links are resolved, and
:meth:`Location.expand` refuses a match (a link in the folder) that leads outside it.
"""

from __future__ import annotations

import difflib
import errno
import fnmatch
import glob
import os
import posixpath
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline_lab._deps import missing_dependency
from pipeline_lab.errors import ConnectorError
from pipeline_lab.lineage import DatasetRef

GLOB_CHARS = frozenset("*?[")
# fsspec protocols that need a package fsspec does not bring
_EXTRAS = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "az": "adlfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
}
TRANSIENT_ERRNOS = frozenset({errno.ETIMEDOUT, errno.EAGAIN, errno.EBUSY, errno.ECONNRESET})


def hidden(name: str) -> bool:
    """Files a dataset folder holds that are not data: ours in progress, _SUCCESS, .crc."""
    return name.startswith((".", "_"))


@dataclass(frozen=True)
class Location:
    """A local or remote file, folder or glob; ``path`` is absolute (local) or fsspec's."""

    protocol: str  # "file" for this machine
    path: str
    storage_options: Mapping[str, Any] = field(default_factory=dict, compare=False)
    root: str | None = field(default=None, compare=False)
    """The folder (of the same file system) this location and its matches must stay inside."""

    @classmethod
    def parse(cls, target: str, storage_options: Mapping[str, Any] | None = None) -> Location:
        options = dict(storage_options or {})
        if "://" not in target:
            return cls("file", os.path.abspath(os.path.expanduser(target)), options)
        scheme = target.split("://", 1)[0].lower()
        if scheme in ("file", "local"):
            return cls("file", os.path.abspath(unquote(urlsplit(target).path)), options)
        fs, path = _filesystem(target, scheme, options)
        location = cls(scheme, path, options)
        location.__dict__["fs"] = fs  # cached_property slot: the file system we just opened
        return location

    # -- what it is ------------------------------------------------------------------------
    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def is_glob(self) -> bool:
        """Whether the path is a pattern: it has ``*``, ``?`` or ``[`` and names nothing that
        exists (a local ``sales [2024].csv`` that exists is that file, not a pattern)."""
        if not any(c in GLOB_CHARS for c in self.path):
            return False
        return not (self.is_local and os.path.lexists(self.path))

    @property
    def url(self) -> str:
        """How to show it: an absolute path, or a URL."""
        return self.path if self.is_local else self.display(self.path)

    @property
    def name(self) -> str:
        return _last(self.path)

    def display(self, path: str) -> str:
        """A path of this location's file system, as the user would write it."""
        return path if self.is_local else f"{self.protocol}://{path.lstrip('/')}"

    def dataset(self) -> DatasetRef:
        """OpenLineage naming: ``file`` + absolute path, or ``scheme://bucket`` + key."""
        if self.is_local:
            return DatasetRef("file", self.path)
        parts = urlsplit(self.url)
        return DatasetRef(f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/"))

    def join(self, relative: str) -> Location:
        """``relative`` below this location, ``..`` resolved; it keeps this location's root."""
        if self.is_local:
            path = os.path.abspath(os.path.join(self.path, relative))
            return Location("file", path, self.storage_options, self.root)
        path = posixpath.normpath(f"{self.path.rstrip('/')}/{relative.lstrip('/')}")
        return self._sibling(path, self.root)

    def within(self, root: str | None = None) -> Location:
        """This location, held inside ``root`` (by default its own :meth:`folder`)."""
        return self._sibling(self.path, self.folder() if root is None else root)

    def _sibling(self, path: str, root: str | None) -> Location:
        other = Location(self.protocol, path, self.storage_options, root)
        if "fs" in self.__dict__:
            other.__dict__["fs"] = self.__dict__["fs"]  # the file system already opened
        return other

    def folder(self) -> str:
        """What a source at this location holds: its own path, or the folder a glob searches."""
        return self.base() if self.is_glob else self.path

    def real(self, path: str | None = None) -> str:
        """Where ``path`` (by default this location's) leads: links and ``..`` resolved."""
        path = self.path if path is None else path
        if self.is_local:
            return os.path.realpath(path)
        return posixpath.normpath(path)  # object stores have no links; ".." is only text

    def escapes(self, path: str | None = None) -> str | None:
        """Where ``path`` really leads, if that is outside the root; else ``None``."""
        if self.root is None:
            return None
        real, root = self.real(path), self.real(self.root)
        if self.is_local:
            try:
                inside = os.path.commonpath([real, root]) == root
            except ValueError:  # on another drive (Windows)
                inside = False
        else:
            inside = real == root or real.startswith(root.rstrip("/") + "/")
        return None if inside else real

    @cached_property
    def fs(self) -> Any:
        """The fsspec file system of a remote location."""
        return _filesystem(self.url, self.protocol, dict(self.storage_options))[0]

    def exists(self) -> bool:
        return os.path.exists(self.path) if self.is_local else bool(self.fs.exists(self.path))

    def is_dir(self) -> bool:
        return os.path.isdir(self.path) if self.is_local else bool(self.fs.isdir(self.path))

    def base(self) -> str:
        """The folder a glob searches (its longest prefix without wildcards), else the parent."""
        parts = self.path.split("/")
        if self.is_glob:
            fixed = []
            for part in parts:
                if any(c in GLOB_CHARS for c in part):
                    break
                fixed.append(part)
            return "/".join(fixed) or "/"
        return "/".join(parts[:-1]) or "/"

    # -- what it matches -------------------------------------------------------------------
    def expand(self, suffixes: tuple[str, ...] = ()) -> list[str]:
        """The files to read, sorted: the glob's matches, a folder's data files, or the file.

        Raises a ConnectorError naming the path (or pattern) and the closest names there,
        or naming a match that leads outside the root (a link to a file elsewhere).
        """
        if self.is_glob:
            matches = self._glob()
            if not matches:
                raise self.missing(f"no file matches {self.url!r}")
            return self._held(matches)
        if self.is_dir():
            files = [f for f in self._walk() if not suffixes or f.lower().endswith(suffixes)]
            if not files:
                kinds = "/".join(suffixes) if suffixes else "data"
                raise ConnectorError(
                    f"the folder {self.url} holds no {kinds} files",
                    dataset=self.url,
                    hint="point at the files (a glob such as folder/*.csv) or give format=...",
                )
            return self._held(files)
        if self.exists():
            return self._held([self.path])
        raise self.missing(f"no such file: {self.url}")

    def _held(self, files: list[str]) -> list[str]:
        """``files``, if every one stays inside the root; else an error naming the first."""
        for path in files:
            real = self.escapes(path)
            if real is not None:
                raise ConnectorError(
                    f"{self.display(path)} leads to {self.display(real)}, outside "
                    f"{self.display(self.root or '')}: a link out of the source's folder "
                    "is not followed",
                    dataset=self.url,
                    hint="copy the file into the folder, or read it by its own path "
                    "(or add a source for the folder it is in)",
                )
        return files

    def _glob(self) -> list[str]:
        if self.is_local:
            found = glob.glob(self.path, recursive=True)
            return sorted(p for p in found if os.path.isfile(p))
        found = self.fs.glob(self.path, detail=True)
        return sorted(p for p, info in found.items() if info.get("type") == "file")

    def _walk(self) -> list[str]:
        files: list[str] = []
        if self.is_local:
            for root, dirs, names in os.walk(self.path):
                dirs[:] = sorted(d for d in dirs if not hidden(d))
                files.extend(os.path.join(root, n) for n in names if not hidden(n))
            return sorted(files)
        for path in self.fs.find(self.path):
            relative = path[len(self.path.rstrip("/")) + 1 :]
            if not any(hidden(part) for part in relative.split("/")):
                files.append(path)
        return sorted(files)

    def listdir(self, folder: str) -> list[str] | None:
        """Visible names in ``folder``, or None when it does not exist."""
        try:
            if self.is_local:
                names = os.listdir(folder)
            else:
                names = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(folder, detail=False)]
        except (FileNotFoundError, NotADirectoryError):
            return None
        return sorted(n for n in names if not n.startswith("."))

    def missing(self, message: str) -> ConnectorError:
        """An error for a path or pattern that names nothing, with the closest existing names."""
        folder = self.base()
        wanted = self.path[len(folder) :].lstrip("/").split("/", 1)[0] or self.name
        names = self.listdir(folder)
        if names is None:
            # The folder itself is missing: look for its name in the nearest existing ancestor.
            while names is None and folder not in ("", "/"):
                folder, wanted = folder.rstrip("/").rsplit("/", 1)[0] or "/", _last(folder)
                names = self.listdir(folder)
            absent = self.display(f"{folder.rstrip('/')}/{wanted}")
            message += f" (the folder {absent} does not exist)"
        return ConnectorError(
            message, dataset=self.url, hint=closest_names(wanted, names or [], self.display(folder))
        )


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def closest_names(wanted: str, names: list[str], folder: str) -> str:
    """A hint naming the entries of ``folder`` closest to ``wanted`` (a name or a pattern)."""
    if not names:
        return f"{folder} is empty"
    lowered = {n.lower(): n for n in names}
    close = [lowered[n] for n in fnmatch.filter(lowered, wanted.lower())]
    close += difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    close = list(dict.fromkeys(close))[:3]
    if close:
        return f"closest in {folder}: " + ", ".join(repr(n) for n in close)
    shown = ", ".join(repr(n) for n in names[:5])
    more = f" ... ({len(names)} entries)" if len(names) > 5 else ""
    return f"{folder} holds {shown}{more}"


def _filesystem(url: str, scheme: str, options: dict[str, Any]) -> tuple[Any, str]:
    import fsspec

    try:
        return fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        package = _EXTRAS.get(scheme) or str(getattr(exc, "name", None) or "the fsspec backend")
        raise missing_dependency(
            package,
            f"{scheme}:// URLs need the optional package '{package}', which is not installed",
            error=ConnectorError,
            dataset=url,
        ) from exc
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise ConnectorError(
            f"no file system for {scheme}:// URLs: {exc}",
            dataset=url,
            hint="see fsspec's known implementations (fsspec.available_protocols())",
        ) from exc


# -- atomic writes -----------------------------------------------------------------------------
def _temporary_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    # Hidden, so readers of the folder skip it; the real suffix last, as writers may check it.
    if not dot or not stem:
        return f".{name}.tmp-{uuid.uuid4().hex[:12]}"
    return f".{stem}.tmp-{uuid.uuid4().hex[:12]}.{suffix}"


@contextmanager
def staged(
    location: Location, *, folder: bool = False, seed: bool = False, merge: bool = False
) -> Iterator[str]:
    """A local path to write the new content to; it replaces ``location`` only on success.

    Local targets are staged in their own folder and published with ``os.replace`` (atomic
    on POSIX and Windows). Remote targets are staged on this machine, uploaded to a hidden
    key beside the target, then moved there (one PUT on object stores, which is atomic).
    ``seed`` starts the staged file as a copy of the target (to append to it). A staged
    folder either replaces the target folder with two renames (readers see the old or the
    new dataset; a crash between the two leaves the old one under a hidden name beside it),
    or, with ``merge``, adds its files to the target (each file appears whole).
    """
    if location.is_local:
        parent = os.path.dirname(location.path)
        os.makedirs(parent, exist_ok=True)
        temporary = os.path.join(parent, _temporary_name(location.name))
        try:
            if seed:
                shutil.copy2(location.path, temporary)
            if folder:
                os.makedirs(temporary)
            yield temporary
            if merge:
                _merge_folder(temporary, location)
            elif folder:
                _swap_folder(temporary, location.path)
            else:
                _replace_file(temporary, location.path)
        finally:
            _remove(temporary)
        return
    with tempfile.TemporaryDirectory(prefix="pipeline-lab-") as scratch:
        local = os.path.join(scratch, location.name)
        if seed:
            location.fs.get(location.path, local)
        if folder:
            os.makedirs(local)
        yield local
        if merge:
            for path in _files_under(local):
                relative = os.path.relpath(path, local).replace(os.sep, "/")
                _upload(location.join(relative), path, folder=False)
        else:
            _upload(location, local, folder=folder)


def _replace_file(temporary: str, target: str) -> None:
    with open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    if os.path.exists(target):
        shutil.copymode(target, temporary)
    os.replace(temporary, target)
    _sync_folder(os.path.dirname(target))


def _swap_folder(temporary: str, target: str) -> None:
    if not os.path.exists(target):
        os.replace(temporary, target)
        return
    previous = os.path.join(os.path.dirname(target), _temporary_name(os.path.basename(target)))
    os.replace(target, previous)
    os.replace(temporary, target)
    shutil.rmtree(previous, ignore_errors=True)


def _merge_folder(staging: str, target: Location) -> None:
    """Move the staged files into ``target``; none moves if one would land outside its root
    (a partition folder there that is a link out of the source's folder)."""
    moves = [
        (p, os.path.join(target.path, os.path.relpath(p, staging))) for p in _files_under(staging)
    ]
    for _path, destination in moves:
        real = target.escapes(destination)
        if real is not None:
            raise ConnectorError(
                f"{target.display(os.path.dirname(destination))} leads to "
                f"{target.display(os.path.dirname(real))}, outside "
                f"{target.display(target.root or '')}: a link out of the source's folder "
                "is not written through",
                dataset=target.url,
                hint="replace the link with a folder, or write with mode='replace'",
            )
    for path, destination in moves:
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        os.replace(path, destination)


def _files_under(folder: str) -> list[str]:
    return sorted(os.path.join(root, n) for root, _dirs, names in os.walk(folder) for n in names)


def _upload(location: Location, local: str, *, folder: bool) -> None:
    fs = location.fs
    parent = location.path.rstrip("/").rsplit("/", 1)[0]
    temporary = f"{parent}/{_temporary_name(location.name)}"
    try:
        fs.put(local, temporary, recursive=folder)
        if folder and fs.exists(location.path):
            fs.rm(location.path, recursive=True)
        fs.mv(temporary, location.path, recursive=folder)
    except BaseException:
        if fs.exists(temporary):
            fs.rm(temporary, recursive=folder)
        raise


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def _sync_folder(folder: str) -> None:
    """Make the rename durable; some systems cannot open a folder, and that is fine."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
