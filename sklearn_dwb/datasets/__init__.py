"""Datasets: a generator of group-biased classification problems."""

from ._synthetic import make_biased_classification

__all__ = ["make_biased_classification"]
