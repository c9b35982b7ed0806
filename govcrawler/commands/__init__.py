"""Scrapy commands of the project (`COMMANDS_MODULE`): Scrapy's own, made to speak as the
`govcrawler` command does when a setting is bad."""
