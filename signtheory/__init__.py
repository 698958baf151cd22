"""signtheory."""
