"""Gap report: one context builder, SVG charts, HTML page and PDF rendering from the same context."""
