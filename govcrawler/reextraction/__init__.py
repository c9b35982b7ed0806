"""`govcrawler reextract`: the current extraction run again over the archive's own captures.

`pages` chooses what to read (the latest capture of each article and document), `extraction`
turns one capture into the record the crawl would have made of it (one function, with no
archive access: what a process pool will map), `diffs` says what a result changes, and `run`
applies the results in batches through the crawl's own write path (`storage.record_article`)
with the origin `reextract`.
"""
