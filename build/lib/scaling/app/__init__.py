"""The application layer: the `gr-scaling` command line (one module per verb, as accelerate's CLI) and the
quickstart. The only code that imports `scaling`, `sweeps` and `analysis` together; the packages below it import
one way (scaling <- sweeps; scaling <- analysis), which `tests/test_layers.py` checks.

    python -m scaling.app VERB ...     # the same as `gr-scaling VERB ...`
"""
from scaling.app.main import build_parser, main

__all__ = ["build_parser", "main"]
