"""``pyspark.sql.Row``: a tuple with named fields."""

from __future__ import annotations

from typing import Any


class Row(tuple[Any, ...]):
    """A row: ``Row(a=1, b=2)``, or a factory ``Point = Row("x", "y"); Point(1, 2)``.

    Fields are in the order given (Spark 3+). Access by index, name (``row["a"]``) or
    attribute (``row.a``).
    """

    __fields__: tuple[str, ...]

    def __new__(cls, *args: Any, **kwargs: Any) -> Row:
        if args and kwargs:
            raise ValueError("Can not use both args and kwargs to create Row")
        if kwargs:
            row = super().__new__(cls, tuple(kwargs.values()))
            row.__fields__ = tuple(kwargs)
            return row
        row = super().__new__(cls, args)
        row.__fields__ = ()  # a factory (Row("a", "b")) or positional values
        return row

    @classmethod
    def _make(cls, fields: tuple[str, ...], values: Any) -> Row:
        """A row of ``values`` named ``fields`` (how results are built)."""
        row = tuple.__new__(cls, values)
        row.__fields__ = fields
        return row

    def __call__(self, *args: Any) -> Row:
        """A Row factory call: ``Row("a", "b")(1, 2)``."""
        if len(args) > len(self):
            raise ValueError(f"Can not create Row with fields {self}, expected {len(self)} values")
        return Row._make(tuple(self), args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return tuple.__getitem__(self, self.__fields__.index(name))
        except ValueError:
            raise AttributeError(name) from None

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self.__fields__.index(key))
            except ValueError:
                raise ValueError(key) from None
        return tuple.__getitem__(self, key)

    def __contains__(self, item: object) -> bool:
        return item in self.__fields__ if self.__fields__ else tuple.__contains__(self, item)

    def __setattr__(self, key: str, value: Any) -> None:
        if key != "__fields__":
            raise RuntimeError("Row is read-only")
        object.__setattr__(self, key, value)

    def __reduce__(self) -> Any:
        return (Row._make, (self.__fields__, tuple(self)))

    def asDict(self, recursive: bool = False) -> dict[str, Any]:
        """The row as {field: value}; nested Rows too when ``recursive``."""
        if not self.__fields__:
            raise TypeError("Cannot convert a Row class into dict")

        def convert(value: Any) -> Any:
            if isinstance(value, Row) and recursive:
                return value.asDict(True)
            if isinstance(value, list) and recursive:
                return [convert(v) for v in value]
            if isinstance(value, dict) and recursive:
                return {k: convert(v) for k, v in value.items()}
            return value

        return {k: convert(v) for k, v in zip(self.__fields__, self, strict=False)}

    def __repr__(self) -> str:
        if self.__fields__:
            values = ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self, strict=False))
            return f"Row({values})"
        return "<Row(" + ", ".join(repr(v) for v in self) + ")>"
