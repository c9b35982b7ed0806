"""Full-text search of the archive: `syntax` (the query language users type, parsed into a tree
and written out for FTS5 or a tsquery), `index` (what goes into the index `articles_fts`, kept in
step with the current versions), `files` (the same for file texts, `files_fts`), `ranking`
(running a query: ranked hits with snippets), with `sqlite` and `postgresql` (the query on each
backend), `file_hits` (the pages found by their files' texts), `snippets` (a hit's marked
window), `execute` (a statement the database cannot read as one line) and `documents` (by 文号
and metadata)."""
