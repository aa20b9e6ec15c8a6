"""Torch modules for teacher and student networks."""

from ._mlp import TabularMLP

__all__ = ["TabularMLP"]
