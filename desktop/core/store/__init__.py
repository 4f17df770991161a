"""Local SQLite store: schema, numbered migrations, repositories."""
