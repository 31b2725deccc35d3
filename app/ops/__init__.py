"""Operations: backups, restores and moving a trial's data to PostgreSQL (the `flask backup|restore|
copy-to-postgres` commands). Kept apart from the feature packages: they work on whole databases, below the
models, and nothing in a request ever calls them."""
