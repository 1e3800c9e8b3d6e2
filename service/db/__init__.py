"""The system of record: SQLAlchemy 2 async models, engine and sessions."""
