"""Command-line interface of cosfire-hash (``cli.main``: ``cosfire-hash --help``), and the run
orchestration (``cli.pipeline``, ``cli.tuning``), which imports no click so that a notebook can
use it."""
