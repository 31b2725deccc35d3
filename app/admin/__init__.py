"""Administration: agencies, units and accounts (web pages for admins and supervisors, and the admin CLI)."""
