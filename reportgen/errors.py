"""The one family of user-facing errors; the CLI turns them into a message and an exit code."""


class ReportgenError(Exception):
    """An error the user can act on; printed as one line, no traceback."""

    exit_code = 1


class ConfigError(ReportgenError):
    """A config file is missing, unreadable or invalid."""

    exit_code = 2


class ResultsError(ReportgenError):
    """A results document is unreadable, of an unknown schema, or violates an invariant."""

    exit_code = 2


class SanityError(ReportgenError):
    """A measurement broke an invariant (confidence outside [0, 1], non-positive latency...)."""

    exit_code = 1
