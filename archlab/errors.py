"""Errors a user can cause. Each one renders as a single line that names the file, row and field."""

from __future__ import annotations


class ArchlabError(Exception):
    """A problem with the user's input (table, option, file). The CLI prints it on one line, exit code 2."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        row: int | str | None = None,
        row_type: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.row = row
        self.row_type = row_type
        self.field = field

    def located(self, **where) -> ArchlabError:
        """Fill in location details that are not known yet (never overwrite what is already set)."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, value)
        return self

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}:{self.line}" if self.line else str(self.file))
        if self.row is not None:
            if self.row == "head" or isinstance(self.row, str):
                parts.append(f"{self.row}")
            else:
                kind = f" ({self.row_type})" if self.row_type else ""
                parts.append(f"row {self.row}{kind}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        where = ": ".join(parts)
        return f"{where}: {self.message}" if where else self.message


class TableError(ArchlabError):
    """The layer table is malformed: syntax, unknown row type or field, bad value."""


class ShapeError(ArchlabError):
    """The table is well formed but the network does not fit together (sizes, groups, kernels)."""


class OptionError(ArchlabError):
    """An override or command-line option is invalid or conflicts with another."""
