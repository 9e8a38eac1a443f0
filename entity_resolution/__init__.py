"""Generic record-linkage engine over polars frames (see docs/entity_resolution.md)."""

from entity_resolution.linker import Linker, LinkResult
from entity_resolution.settings import LinkageSettings

__all__ = ["LinkResult", "LinkageSettings", "Linker"]
