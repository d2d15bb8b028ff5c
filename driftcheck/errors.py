"""One error root; the CLI is the only place that turns these into a one-line message and exit code 2."""


class DriftcheckError(Exception):
    """Base of every error driftcheck reports to the user."""


class InputError(DriftcheckError):
    """Bad input: a file, field or argument the user can fix. Message names the file and field or line."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None) -> None:
        self.file = file
        self.where = where
        located = ":".join(part for part in (file, where) if part)
        super().__init__(f"{located}: {message}" if located else message)


class RuleError(DriftcheckError):
    """A rule file that does not fit the rule schema, or a CEL expression that does not compile."""
