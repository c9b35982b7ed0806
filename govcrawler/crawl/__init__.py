"""The Scrapy components that `govcrawler/settings.py` names by dotted path: politeness
(`politeness`), the site-only guard (`siteonly`), offline modes (`replay`, `gateway`), the
on-disk duplicate filter (`seen`), the start page's fate for the health checks
(`startpage`) and fault injection for the crash tests (`faults`); and what the crawl's worker
processes do first (`children`)."""
