"""Full-text search of the archive, in three rooms: `syntax` (the query language users type,
parsed into a tree and written out for FTS5 or a tsquery), `index` (what goes into the index
`articles_fts`, kept in step with the current versions) and `ranking` (running a query: ranked
hits with snippets)."""
