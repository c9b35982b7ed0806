"""What a page says: articles, documents, lists and files read from their HTML and bytes.

`EXTRACTOR_REVISION` is recorded on every version the archive makes (`article_version.
extractor_revision`): bump it with any change of what extraction gives for a page, so that a
version says which extraction made it and `govcrawler reextract` can be run after the bump.
"""

EXTRACTOR_REVISION = 1
