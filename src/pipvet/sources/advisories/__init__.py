"""Advisory data: the local SQLite index, its ingestion, the bundled snapshot and the OSV API."""
