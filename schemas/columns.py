"""Column metadata: what one department column is, as data.

Every department schema (``schemas.departments``) is a pydantic model whose
fields carry a :class:`Column` in their ``Annotated`` metadata. Header
matching, validation, normalisation and the warehouse DDL all read these
objects; nothing else in the code base spells a header or an accepted value.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Kind(StrEnum):
    """How a column is normalised and which warehouse type it gets."""

    TEXT = "text"  # stripped, NFKC
    NAME = "name"  # Chinese personal name -> normalised + pinyin
    ID_NUMBER = "id_number"  # resident ID -> 18-char + status + derived fields
    GENDER = "gender"  # 男 / 女
    DATE = "date"
    PHONE = "phone"
    ADDRESS = "address"
    VILLAGE_CODE = "village_code"  # 12-digit, checked against the gazetteer
    ENUM = "enum"  # one of Column.values
    BOOL = "bool"  # 是 / 否
    INT = "int"
    MONEY = "money"  # yuan, float
    YEAR = "year"
    SCHOOL_GRADE = "school_grade"  # 一年级..九年级, 高一..高三, 1..12 -> 1..12
    HOUSE_GRADE = "house_grade"  # A/B/C/D (C级, Ｃ) -> enum


class Column(BaseModel):
    """Metadata for one canonical column of a department extract."""

    model_config = ConfigDict(frozen=True)

    zh: str = Field(description="The Chinese header the SPEC gives.")
    kind: Kind
    required: bool = Field(False, description="A row without a usable value is quarantined.")
    aliases: tuple[str, ...] = Field((), description="Other headers seen for this column.")
    values: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="For ENUM/BOOL/GENDER/HOUSE_GRADE: canonical value -> accepted spellings.",
    )
    description: str = ""


class ColumnSpec(BaseModel):
    """A :class:`Column` bound to its canonical (English) name."""

    model_config = ConfigDict(frozen=True)

    name: str
    column: Column

    @property
    def kind(self) -> Kind:
        return self.column.kind

    @property
    def required(self) -> bool:
        return self.column.required

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this column, canonical name first."""
        return (self.name, self.column.zh, *self.column.aliases)
