"""User-facing errors: one line that names the file/key/value and says what to do."""


class GRError(Exception):
    """Base class: the CLI prints str(err) on one line, without a traceback."""


class ConfigError(GRError):
    """A config key or value is wrong."""


class DataError(GRError):
    """A dataset file is missing or malformed."""


class ModelNotFoundError(GRError):
    """A model id is not available (offline)."""
