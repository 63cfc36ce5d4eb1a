class AnalysisError(Exception):
    """Degenerate or missing input for a fit: one line, no optimiser traceback."""
