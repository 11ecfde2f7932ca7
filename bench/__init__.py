"""packgraph's benchmark harness (issue 9): ``python -m bench`` or ``make bench``.

Every benchmark starts real server processes on fresh databases, drives them from separate load
processes, and reports each figure as a ratio against a baseline measured in the same run
(interleaved rounds, min/median/max), because the machines it runs on are shared and noisy.
"""
