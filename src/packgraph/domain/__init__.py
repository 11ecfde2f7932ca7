"""Business rules. Never imports strawberry: the API layer calls these functions."""
