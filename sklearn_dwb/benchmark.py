"""Benchmark DwB against fairlearn's mitigators: ``python -m sklearn_dwb.benchmark``.

See :mod:`sklearn_dwb._benchmark` for what runs; ``--help`` for the options.
"""

from ._benchmark import TASKS, main, reweighing_weights

__all__ = ["TASKS", "main", "reweighing_weights"]

if __name__ == "__main__":
    main()
