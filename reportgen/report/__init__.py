"""The report: page view models, charts, catalogs and number formats, rendering. No disk writes."""
