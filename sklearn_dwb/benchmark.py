"""Benchmark DwB against fairlearn's mitigators: ``python -m sklearn_dwb.benchmark``.

See :mod:`sklearn_dwb._benchmark` for what runs; ``--help`` for the options.
"""

from ._benchmark import TASKS, jobs, load_task, main, reweighing_weights

__all__ = ["TASKS", "jobs", "load_task", "main", "reweighing_weights"]

if __name__ == "__main__":
    main()
