"""The package version: part of every result-store key (a new version recomputes)."""

__version__ = "0.1.0"
