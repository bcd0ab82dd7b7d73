"""Types between polars and SQL databases, per dialect.

Three directions: the column type a frame's dtype becomes when a table is created
(:func:`column_type`), the polars dtype of a reflected column (:func:`polars_dtype`) or of a
query result column as the driver describes it (:func:`described_dtype`), and whether a frame
column may be written into an existing column (:func:`write_cast`).

Conventions on every database: JSON is read as its text (a String column); struct and list
columns are written as JSON. MySQL and SQLite have no time-zone-aware timestamp: a
time-zone-aware column is stored as UTC and reads back without a time zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline_lab.errors import ConnectorError

if TYPE_CHECKING:
    import polars as pl
    from sqlalchemy.types import TypeEngine

# PostgreSQL type OIDs (fixed in the catalog) -> (polars dtype name, connectorx reads it)
_PG_OIDS: dict[int, tuple[str | None, bool]] = {
    16: ("Boolean", True),
    17: ("Binary", True),
    18: ("String", False),
    19: ("String", True),
    20: ("Int64", True),
    21: ("Int16", True),
    23: ("Int32", True),
    25: ("String", True),
    26: ("Int64", False),
    114: ("String", True),
    700: ("Float32", True),
    701: ("Float64", True),
    1042: ("String", True),
    1043: ("String", True),
    1082: ("Date", True),
    1083: ("Time", True),
    1114: ("Datetime", True),
    1184: ("DatetimeUTC", True),
    1186: ("Duration", False),
    1700: ("Decimal", True),
    2950: ("String", True),
    3802: ("String", True),
}
# pymysql FIELD_TYPE codes -> (polars dtype name or None to infer, connectorx reads it)
_MYSQL_FIELDS: dict[int, tuple[str | None, bool]] = {
    0: ("Decimal", True),
    1: (None, True),  # TINY: Int8, or Boolean for TINYINT(1)
    2: ("Int16", True),
    3: (None, True),  # LONG: Int32, or Int64 when unsigned (not described)
    4: ("Float32", True),
    5: ("Float64", True),
    7: ("Datetime", True),
    8: (None, True),  # LONGLONG: Int64, or UInt64 when unsigned (not described)
    9: ("Int32", True),
    10: ("Date", True),
    11: ("Duration", False),  # TIME may exceed 24 hours; the driver gives timedeltas
    12: ("Datetime", True),
    13: ("Int16", False),
    245: ("String", True),
    246: ("Decimal", True),
    247: ("String", True),
    252: (None, True),  # BLOB and TEXT share a code: infer from values
    253: (None, True),
    254: (None, True),
}
# connectorx reads decimals as decimal128(38, 10): a larger scale would lose digits.
_CX_MAX_SCALE = 10


def _cx_decimal(precision: int | None, scale: int | None) -> bool:
    """connectorx reads decimals as decimal128(38, 10): more than 10 decimals, or more than
    28 integer digits, would not fit."""
    if precision is None:
        return False
    scale = scale or 0
    return scale <= _CX_MAX_SCALE and precision - scale <= 38 - _CX_MAX_SCALE


def _dtype(name: str | None, precision: int | None = None, scale: int | None = None) -> Any:
    import polars as pl

    if name is None:
        return None
    if name == "Decimal":
        if precision is None or scale is None or precision > 38:
            return None
        return pl.Decimal(precision, scale)
    if name == "Datetime":
        return pl.Datetime("us")
    if name == "DatetimeUTC":
        return pl.Datetime("us", "UTC")
    if name == "Duration":
        return pl.Duration("us")
    return getattr(pl, name)


def described_dtype(column: Any, dialect: str) -> tuple[Any, bool]:
    """The polars dtype of a described result column (None: infer), and whether connectorx
    reads it without loss."""
    if dialect == "postgresql":
        name, cx = _PG_OIDS.get(int(column.type_code), (None, False))
        precision, scale = getattr(column, "precision", None), getattr(column, "scale", None)
        if name == "Decimal":
            cx = _cx_decimal(precision, scale)
        return _dtype(name, precision, scale), cx
    if dialect in {"mysql", "mariadb"}:
        _, code, _, length, _, scale, _ = column
        name, cx = _MYSQL_FIELDS.get(int(code), (None, False))
        if code == 1:
            name = "Boolean" if length == 1 else "Int8"
        precision = None
        if name == "Decimal":
            # The described length counts the sign and the decimal point.
            precision = max(1, (length or 0) - 1 - (1 if scale else 0))
            cx = _cx_decimal(precision, scale)
        return _dtype(name, precision, scale), cx
    return None, False


def polars_dtype(sql_type: TypeEngine[Any]) -> Any:
    """The polars dtype of a reflected column type (None: infer from the values)."""
    import polars as pl
    from sqlalchemy import types as t

    family = sql_family(sql_type)
    if family == "boolean":
        return pl.Boolean
    if family == "integer":
        if getattr(sql_type, "unsigned", False):
            return pl.UInt64 if isinstance(sql_type, t.BigInteger) else pl.Int64
        if isinstance(sql_type, t.SmallInteger):
            return pl.Int16
        if isinstance(sql_type, t.BigInteger):
            return pl.Int64
        name = type(sql_type).__name__
        return {"TINYINT": pl.Int8, "INTEGER": pl.Int32, "MEDIUMINT": pl.Int32}.get(name, pl.Int64)
    if family == "float":
        single = isinstance(sql_type, t.REAL) or type(sql_type).__name__ == "FLOAT"
        precision = getattr(sql_type, "precision", None)
        return pl.Float32 if single and (precision is None or precision <= 24) else pl.Float64
    if family == "decimal":
        precision = getattr(sql_type, "precision", None)
        scale = getattr(sql_type, "scale", None)
        if type(sql_type).__name__ in {"MONEY", "SMALLMONEY"}:
            precision, scale = (19, 4) if type(sql_type).__name__ == "MONEY" else (10, 4)
        return _dtype("Decimal", precision, scale)
    if family == "datetime":
        aware = getattr(sql_type, "timezone", False) or type(sql_type).__name__ == "DATETIMEOFFSET"
        return pl.Datetime("us", "UTC" if aware else None)
    simple = {
        "date": pl.Date,
        "time": pl.Time,
        "string": pl.String,
        "json": pl.String,
        "binary": pl.Binary,
        "duration": pl.Duration("us"),
    }
    return simple.get(family)


def sql_family(sql_type: TypeEngine[Any]) -> str:
    """A reflected type's family: integer, float, decimal, boolean, string, date, ..."""
    from sqlalchemy import types as t

    name = type(sql_type).__name__
    if isinstance(sql_type, t.Boolean) or (
        name == "TINYINT" and getattr(sql_type, "display_width", None) == 1
    ):
        return "boolean"
    if name == "NUMBER":  # Oracle: an integer only when it has a precision and no scale
        precision, scale = getattr(sql_type, "precision", None), getattr(sql_type, "scale", None)
        return "integer" if precision is not None and not scale else "decimal"
    named = {"MONEY": "decimal", "SMALLMONEY": "decimal", "YEAR": "integer", "INTERVAL": "duration"}
    if name in named:
        return named[name]
    checks: list[tuple[Any, str]] = [
        (t.Integer, "integer"),
        (t.Float, "float"),
        (t.Numeric, "decimal"),
        (t.DateTime, "datetime"),
        (t.Date, "date"),
        (t.Time, "time"),
        (t.Interval, "duration"),
        (t.JSON, "json"),
        (t.String, "string"),
        (t.Uuid, "string"),
        (t._Binary, "binary"),
    ]
    for cls, family in checks:
        if isinstance(sql_type, cls):
            return family
    return "other"


def dtype_family(dtype: pl.DataType) -> str:
    """A polars dtype's family, in the words of :func:`sql_family`."""
    import polars as pl

    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Decimal):
        return "decimal"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    families = {
        pl.Boolean: "boolean",
        pl.String: "string",
        pl.Categorical: "string",
        pl.Enum: "string",
        pl.Date: "date",
        pl.Time: "time",
        pl.Binary: "binary",
        pl.Null: "null",
    }
    for cls, family in families.items():
        if isinstance(dtype, cls) or dtype == cls:
            return family
    if isinstance(dtype, pl.Duration):
        return "duration"
    if isinstance(dtype, (pl.Struct, pl.List, pl.Array)):
        return "json"
    return "other"


# Frame family -> the table families it may be written into.
_WRITABLE = {
    "integer": {"integer", "float", "decimal"},
    "float": {"float", "decimal"},
    "decimal": {"decimal", "float"},
    "boolean": {"boolean", "integer"},
    "string": {"string", "json"},
    "date": {"date", "datetime"},
    "datetime": {"datetime"},
    "time": {"time"},
    "duration": {"duration"},
    "binary": {"binary"},
    "json": {"json", "string"},
}


def write_cast(dtype: pl.DataType, sql_type: TypeEngine[Any]) -> tuple[bool, Any]:
    """Whether a frame column of ``dtype`` may go into a column of ``sql_type``, and the
    polars dtype to cast it to first (None: write as is)."""
    frame, table = dtype_family(dtype), sql_family(sql_type)
    if frame == "null" or table == "other":
        return True, None
    if table not in _WRITABLE.get(frame, set()):
        return False, None
    if frame != table and table in {"integer", "float", "decimal", "datetime"}:
        return True, polars_dtype(sql_type)
    return True, None


def column_type(
    dtype: pl.DataType, dialect: str, *, key: bool = False, max_chars: int | None = None
) -> TypeEngine[Any]:
    """The column type a frame column of ``dtype`` gets in a new table on ``dialect``.

    ``key`` columns need a bounded string type on MySQL, SQL Server and Oracle (they cannot
    index unbounded text); ``max_chars`` is the longest value, to size it.
    """
    import polars as pl
    from sqlalchemy import types as t
    from sqlalchemy.dialects import mssql, mysql, oracle, postgresql

    family = dtype_family(dtype)
    if family == "integer":
        if dtype == pl.UInt64:
            return (
                mysql.BIGINT(unsigned=True) if dialect in {"mysql", "mariadb"} else t.Numeric(20, 0)
            )
        if dtype in (pl.Int8, pl.Int16, pl.UInt8):
            return t.SmallInteger()
        if dtype in (pl.Int32, pl.UInt16):
            return t.Integer()
        return t.BigInteger()
    if family == "float":
        single = dtype == pl.Float32
        if dialect == "oracle":
            return oracle.BINARY_FLOAT() if single else oracle.BINARY_DOUBLE()
        if dialect in {"mysql", "mariadb"}:  # MySQL's REAL is a double
            return mysql.FLOAT() if single else mysql.DOUBLE()
        return t.REAL() if single else t.Double()
    if family == "decimal":
        assert isinstance(dtype, pl.Decimal)
        return t.Numeric(dtype.precision or 38, dtype.scale)
    if family == "boolean":
        return t.Boolean()
    if family in {"string", "null"}:
        return _string_type(dialect, key=key, max_chars=max_chars)
    if family == "date":
        # SQL Server's generic date depends on the server version; DATE exists since 2008.
        return mssql.DATE() if dialect == "mssql" else t.Date()
    if family == "datetime":
        aware = getattr(dtype, "time_zone", None) is not None
        if dialect in {"mysql", "mariadb"}:
            return mysql.DATETIME(fsp=6)
        if dialect == "mssql":
            return mssql.DATETIMEOFFSET(precision=6) if aware else mssql.DATETIME2(precision=6)
        if dialect == "sqlite":
            return t.DateTime()
        return t.TIMESTAMP(timezone=aware)
    if family == "time" and dialect != "oracle":
        if dialect == "mssql":
            return mssql.TIME(precision=6)
        return mysql.TIME(fsp=6) if dialect in {"mysql", "mariadb"} else t.Time()
    if family == "binary":
        if dialect in {"mysql", "mariadb"}:
            return mysql.LONGBLOB()
        return mssql.VARBINARY() if dialect == "mssql" else t.LargeBinary()
    if family == "json":
        if dialect == "postgresql":
            return postgresql.JSONB()
        if dialect in {"mysql", "mariadb", "sqlite"}:
            return t.JSON()
        return mssql.NVARCHAR() if dialect == "mssql" else oracle.NCLOB()
    if family == "duration" and dialect == "postgresql":
        return postgresql.INTERVAL()
    raise ConnectorError(
        f"cannot store a {dtype} column in a {dialect} table",
        hint="cast it first (durations: .dt.total_microseconds(); times on Oracle: "
        ".dt.to_string()), or create the table yourself",
    )


def _string_type(dialect: str, *, key: bool, max_chars: int | None) -> TypeEngine[Any]:
    from sqlalchemy import types as t
    from sqlalchemy.dialects import mssql, mysql, oracle

    longest = max_chars or 0
    if dialect in {"mysql", "mariadb"}:
        if key:
            return t.String(_bounded(max(255, longest), 768, dialect))  # InnoDB: 3072 bytes
        return mysql.LONGTEXT()
    if dialect == "mssql":
        return (
            mssql.NVARCHAR(_bounded(max(255, longest), 450, dialect)) if key else mssql.NVARCHAR()
        )
    if dialect == "oracle":
        if key:
            return oracle.NVARCHAR2(_bounded(max(255, longest), 2000, dialect))
        return oracle.NVARCHAR2(2000) if longest <= 2000 else oracle.NCLOB()
    return t.Text()


def _bounded(length: int, limit: int, dialect: str) -> int:
    if length > limit:
        raise ConnectorError(
            f"a key value is {length} characters long; {dialect} indexes keys of at most "
            f"{limit} characters",
            hint="use a shorter key column (an id or a hash)",
        )
    return length
