"""Benchmarks for the budgets in DESIGN.md, run by ``make bench`` (``python -m bench.run``).

Measured by benchmarks, never by timed tests: submission throughput against a bare Flask +
SQLAlchemy insert, queue / case / pupil page latency at 1,000 and 100,000 reports, a whole
school on one address, and the memory of a worker. Results: bench/results.md and .json.
"""
