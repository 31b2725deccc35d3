"""Gap report of one assessment: context, SVG charts, page, PDF (cached), Word, JSON, CSV and Excel downloads."""
