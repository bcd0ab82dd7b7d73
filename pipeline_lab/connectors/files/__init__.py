"""Files: CSV/TSV, JSON, NDJSON, Parquet and Excel; local paths, globs and fsspec URLs.

>>> from pipeline_lab.connectors import read, write
>>> orders = read("data/orders_*.csv", separator=";", source_column="file")
>>> write(orders, "out/orders.parquet", mode="replace")
>>> write(orders, "out/by_region", partition_by=["region"], mode="replace")

The format comes from the name (``.csv``, ``.tsv``, ``.json``, ``.ndjson``/``.jsonl``,
``.parquet``, ``.xlsx``) or ``format=``. A source is a file, a glob (every match, in name
order, into one frame) or a folder (a dataset: its data files, ``key=value`` subfolders as
partition columns). Relative paths resolve against the current working directory.

Writes are atomic: the new file is written beside the target under a hidden name, then
renamed over it, so a crash leaves the previous file whole. Modes: ``replace`` overwrites,
``error`` refuses an existing target, ``append`` adds rows to a CSV or NDJSON file (the
columns must match the header), adds files to a partitioned dataset, and creates any other
file that does not exist yet (it never rewrites a Parquet, JSON or Excel file).

Remote URLs (``memory://``, ``s3://`` with s3fs, ``gs://`` with gcsfs, ...) are read by
downloading the files to a temporary folder, then reading them as local files (eagerly);
writes are staged locally, uploaded under a hidden key beside the target and moved there.
"""

from __future__ import annotations

from pipeline_lab.connectors.files._connector import FileConnector
from pipeline_lab.connectors.files._formats import excel_arguments

__all__ = ["FileConnector", "excel_arguments"]
