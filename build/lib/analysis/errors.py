from scaling.errors import GRError


class AnalysisError(GRError):
    """Degenerate or missing input for a fit: one line, no optimiser traceback (a GRError: the CLI prints it as
    its one-line error, whichever verb raised it)."""
