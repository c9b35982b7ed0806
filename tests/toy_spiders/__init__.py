"""Toy spiders for the tests: a second source is one module and a setting (SPIDER_MODULES)."""
