"""The archive's one exception base: a problem a user can act on, said in one line."""


class ArchiveError(Exception):
    """The archive cannot be opened, read or written as asked; the message says what to do."""
