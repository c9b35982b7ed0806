"""The archive's exceptions, under one base: a problem a user can act on, said in one line."""


class ArchiveError(Exception):
    """The archive cannot be opened, read or written as asked; the message says what to do."""


class SearchQueryError(ArchiveError):
    """A search query that cannot run; the message says what is wrong and how to fix it."""
