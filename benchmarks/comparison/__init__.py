"""The comparison of ``benchmarks/run.py``: its tasks, its methods and its
report (the command line is ``run.py``)."""
