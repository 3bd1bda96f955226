"""A second, independently written error generator for the report benchmark.

Written without reading ``service/`` or the first benchmark's injectors and word lists; see
README.md. Nothing here imports ``service`` or ``bench.quality.report_*``.
"""
