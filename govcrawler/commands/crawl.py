"""`scrapy crawl`, with one line instead of a traceback for a setting govcrawler refuses.

A replay directory or gateway that is set but unusable makes its add-on raise `BadSetting`
while Scrapy builds the crawler, inside a task whose traceback Scrapy prints. This command
runs those add-ons' own check on a copy of the settings first: a refused setting is one line
and exit 1, as under `govcrawler crawl`, and no request is made.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import NotConfigured

from govcrawler.crawl.gateway import GatewayAddon
from govcrawler.crawl.replay import ReplayAddon
from govcrawler.exceptions import GovcrawlerError

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import BaseSettings


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        try:
            refused_settings(self.settings)
        except GovcrawlerError as error:
            print(f"error: {error}", file=sys.stderr)
            self.exitcode = 1
            return
        super().run(args, opts)


def refused_settings(settings: BaseSettings) -> None:
    """Raise what a fail-closed add-on would raise for these settings (`NotConfigured` is an
    add-on switched off, not a refusal). Only these two: they check and set settings, nothing
    else (the distributed add-on joins a job in Redis)."""
    for addon in (ReplayAddon, GatewayAddon):
        try:
            addon().update_settings(settings.copy())
        except NotConfigured:
            continue
