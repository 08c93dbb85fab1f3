"""The wire: signing, the async client, typed models and errors. No Qt, no SQLite."""
