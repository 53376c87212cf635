"""The store: DynamoDB behind a small repository interface (nothing else touches the table API)."""
