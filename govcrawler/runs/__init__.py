"""Run bookkeeping: the plan of an incremental run (`plan`), the run records and their verdict
(`records`, a Scrapy extension) and the health checks (`health`, pure functions over stats)."""
