"""Connectors: the town's website, its open-data portal (CKAN) and FAQ lists as sources of a
bot's knowledge base. Public API in pipelines.connectors.sources (registry, runs, schedule),
.website, .ckan (tables), .faq; shared types in .base."""
