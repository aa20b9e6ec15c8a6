"""Inspecting a search: the accuracy-disparity front."""

from ._front import FrontDisplay

__all__ = ["FrontDisplay"]
