"""A notebook file as JSON values: read checked, cells found by id, written back atomically.

Only the stdlib ``json``: the file is kept as the JSON values it holds, and written back in
the layout it was read in (its indent, its key order, its last newline), so a change to one
cell changes only the lines of that cell.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_lab.errors import PipelineDefinitionError
from pipeline_lab.suggest import did_you_mean

METADATA_KEY = "pipeline_lab"
"""The key of a cell's metadata that holds builder state (``{"position": [x, y]}``)."""
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
"""What nbformat 4.5 allows as a cell id."""
IDS_SINCE_MINOR = 5
"""Cells have ids from nbformat 4.5 on."""


def source_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def source_lines(text: str) -> list[str]:
    """``text`` as nbformat stores it: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def cell_metadata(cell: dict[str, Any]) -> dict[str, Any]:
    metadata = cell.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def new_cell(
    source: str,
    cell_id: str,
    cell_type: str = "code",
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cell with its keys in the order Jupyter writes them (sorted); ``None`` values of
    ``metadata`` are left out."""
    cell: dict[str, Any] = {"cell_type": cell_type}
    if cell_type == "code":
        cell["execution_count"] = None
    cell["id"] = cell_id
    cell["metadata"] = {k: v for k, v in sorted((metadata or {}).items()) if v is not None}
    if cell_type == "code":
        cell["outputs"] = []
    cell["source"] = source_lines(source)
    return cell


def fresh_id(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A new cell id the way Jupyter makes them (8 hex digits), not one of ``taken``."""
    while True:
        cell_id = uuid.uuid4().hex[:8]
        if cell_id not in taken:
            return cell_id


def put(mapping: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; if the keys were sorted (as Jupyter writes them), keep them sorted."""
    was_sorted = list(mapping) == sorted(mapping)
    mapping[key] = value
    if was_sorted and list(mapping) != sorted(mapping):
        items = sorted(mapping.items())
        mapping.clear()
        mapping.update(items)


@dataclass
class NotebookFile:
    """A notebook read from ``path``: its JSON values, and the text they were read from."""

    path: Path
    data: dict[str, Any]
    text: str
    upgraded_from: int | None = None
    """The nbformat minor version the file had, if its cells got ids when it was read."""

    @classmethod
    def load(cls, path: str | Path) -> NotebookFile:
        path = Path(path)
        if not path.exists():
            raise PipelineDefinitionError(
                f"notebook '{path}' does not exist",
                hint="check the path (it is relative to the current directory)",
            )
        if path.is_dir():
            raise PipelineDefinitionError(
                f"'{path}' is a directory, not a notebook", hint="pass a .ipynb file"
            )
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PipelineDefinitionError(
                f"'{path}' is not a Jupyter notebook (not valid notebook JSON: {exc})",
                hint="pass a .ipynb file saved by Jupyter",
            ) from None
        except RecursionError:
            raise PipelineDefinitionError(
                f"'{path}' is not a Jupyter notebook (its JSON is nested too deeply to read)",
                hint="pass a .ipynb file saved by Jupyter",
            ) from None
        _check_notebook(path, data)
        return cls(path, data, text)

    @property
    def cells(self) -> list[dict[str, Any]]:
        cells: list[dict[str, Any]] = self.data["cells"]
        return cells

    def ids(self) -> set[str]:
        return {cell["id"] for cell in self.cells if isinstance(cell.get("id"), str)}

    def give_cells_ids(self) -> None:
        """Upgrade an nbformat 4.0-4.4 notebook to 4.5, as Jupyter does when it saves one:
        every cell without an id gets a fresh one."""
        taken = self.ids()
        missing = [cell for cell in self.cells if not isinstance(cell.get("id"), str)]
        minor = self.data.get("nbformat_minor", 0)
        if not missing and minor >= IDS_SINCE_MINOR:
            return
        for cell in missing:
            cell_id = fresh_id(taken)
            taken.add(cell_id)
            put(cell, "id", cell_id)
        if minor < IDS_SINCE_MINOR:
            self.upgraded_from = minor
            self.data["nbformat_minor"] = IDS_SINCE_MINOR

    def index(self, cell_id: str) -> int:
        """The position of the cell ``cell_id``; an unknown or shared id is an error."""
        found = [i for i, cell in enumerate(self.cells) if cell.get("id") == cell_id]
        if len(found) == 1:
            return found[0]
        if found:
            numbers = " and ".join(str(i + 1) for i in found)
            raise PipelineDefinitionError(
                f"{self.path.name}: cells {numbers} share the id '{cell_id}'",
                hint="give one of them another id (ids must be unique in a notebook); "
                "opening and saving the notebook in JupyterLab repairs them",
            )
        if self.upgraded_from is not None:
            hint = (
                f"the notebook is nbformat 4.{self.upgraded_from}, whose cells have no ids; "
                "patch_notebook(path, []) gives every cell one (nbformat 4.5), and "
                "Pipeline.from_notebook(path) then shows them as Node.cell_id"
            )
        else:
            hint = did_you_mean(cell_id, self.ids()) or (
                "use the id of a cell of this notebook (Node.cell_id of a node read with "
                'Pipeline.from_notebook, or the cell\'s "id" in the file)'
            )
        raise PipelineDefinitionError(
            f"{self.path.name}: no cell has the id '{cell_id}'", hint=hint
        )

    def dumps(self) -> str:
        """The notebook as JSON text, in the layout the file had."""
        indent: int | None = None  # one line, unless the file had lines
        if self.text.startswith("{\n"):
            second = self.text[2:].split("\n", 1)[0]
            indent = len(second) - len(second.lstrip(" "))
        newline = "\n" if self.text.endswith("\n") else ""
        return json.dumps(self.data, indent=indent, ensure_ascii=False) + newline

    def save(self) -> bool:
        """Write the notebook back if it changed; ``False`` if there was nothing to write."""
        if self.data == json.loads(self.text):
            return False
        text = self.dumps()
        write_atomically(self.path, text)
        self.text = text
        return True


SUPPORTED_NBFORMAT = 4


def _check_notebook(path: Path, data: Any) -> None:
    """Refuse what is not an nbformat 4 notebook, saying what it is instead."""
    saved = "pass a .ipynb file saved by Jupyter"
    if not isinstance(data, dict):
        raise PipelineDefinitionError(
            f"'{path}' is not a Jupyter notebook (no 'cells' list: it holds a JSON "
            f"{_json_type(data)}, not an object)",
            hint=saved,
        )
    version = data.get("nbformat", SUPPORTED_NBFORMAT)
    if isinstance(version, bool) or not isinstance(version, int):
        raise PipelineDefinitionError(
            f"'{path}' has \"nbformat\": {json.dumps(version)}, which is not a version number "
            f'(Jupyter writes "nbformat": {SUPPORTED_NBFORMAT})',
            hint=f'write "nbformat": {SUPPORTED_NBFORMAT} (a number, without quotes), or '
            "open the notebook in JupyterLab and save it again",
        )
    if version < SUPPORTED_NBFORMAT:  # nbformat 3 and older keep cells in "worksheets"
        convert = path.with_name(f"{path.stem}_v4.ipynb").name
        raise PipelineDefinitionError(
            f"'{path}' is an nbformat {version} notebook (from IPython before 2015); "
            f"Pipeline Lab reads nbformat {SUPPORTED_NBFORMAT}",
            hint=f"convert it: jupyter nbconvert --to notebook --nbformat {SUPPORTED_NBFORMAT} "
            f"--output {convert} {path} (or open it in JupyterLab and save it)",
        )
    if version > SUPPORTED_NBFORMAT:
        raise PipelineDefinitionError(
            f"'{path}' is an nbformat {version} notebook; Pipeline Lab reads nbformat "
            f"{SUPPORTED_NBFORMAT}",
            hint="save it as nbformat 4 (jupyter nbconvert --to notebook --nbformat 4), or "
            "upgrade Pipeline Lab",
        )
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise PipelineDefinitionError(
            f"'{path}' is not a Jupyter notebook (no 'cells' list)", hint=saved
        )
    for index, cell in enumerate(cells):
        damage = _cell_damage(cell)
        if damage:
            raise PipelineDefinitionError(
                f"'{path}' is damaged: cell {index + 1} {damage}",
                hint="restore the file from version control or a backup; each entry of "
                '"cells" is an object with "cell_type" (a string), "metadata" (an object, '
                'its "tags" a list of strings) and "source" (a string or a list of strings)',
            )


def _cell_damage(cell: Any) -> str | None:
    """What makes ``cell`` something no Jupyter writes, or ``None`` if it is a cell."""
    if not isinstance(cell, dict):
        return f"is a JSON {_json_type(cell)} ({_shown(cell)}), not a cell object"
    if not isinstance(cell.get("cell_type"), str):
        return f'has "cell_type": {_shown(cell.get("cell_type"))}, not a string'
    source = cell.get("source", "")
    if not isinstance(source, str) and not (
        isinstance(source, list) and all(isinstance(line, str) for line in source)
    ):
        return f'has "source": {_shown(source)}, not a string or a list of strings'
    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        return f'has "metadata": {_shown(metadata)}, not an object'
    tags = metadata.get("tags", [])
    if not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
        return f'has "metadata.tags": {_shown(tags)}, not a list of strings'
    try:
        json.dumps(cell, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds a lone UTF-16 surrogate ({exc.object[exc.start : exc.end]!a}), not text"
    except RecursionError:
        return "is nested too deeply"
    return None


def _shown(value: Any) -> str:
    """A JSON value as the file has it, cut short."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (ValueError, RecursionError):
        text = "..."
    return text if len(text) <= 40 else text[:37] + "..."


def _json_type(value: Any) -> str:
    """What JSON calls the type of ``value`` (as ``json.loads`` made it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else type(value).__name__


def write_atomically(path: Path, text: str, *, create: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it.

    ``create``: never replace an existing file (``FileExistsError``). Otherwise the file
    keeps its mode; a new file gets the mode a plain write would give it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp makes the file private (0600); give it the mode a plain write would.
        keep = not create and path.exists()
        os.chmod(tmp, path.stat().st_mode & 0o7777 if keep else 0o666 & ~_umask())
        if create:
            _link(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` unless ``path`` exists, atomically where links are supported."""
    try:
        os.link(tmp, path)  # fails if path exists, even if another process just made it
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists():  # a file system without hard links: check, then move
            raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
