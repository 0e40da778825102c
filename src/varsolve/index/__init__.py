"""Real package indexes for tests and benchmarks: reproducible wheels and sdists
(:mod:`~varsolve.index.wheels`), a static simple-repository builder
(:mod:`~varsolve.index.builder`) and an HTTP server with fault switches
(:mod:`~varsolve.index.server`).
"""
