"""The parser: one message and the time it was posted in, SPEC section 5's `parse` result out."""

from .reading import parse
from .result import Clarification, Correction, Option, ParseResult, Query, Update

__all__ = ["Clarification", "Correction", "Option", "ParseResult", "Query", "Update", "parse"]
