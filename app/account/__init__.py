"""Own-account pages: set a password from a one-time link, change one's password."""
