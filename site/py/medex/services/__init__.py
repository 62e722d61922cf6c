"""Use cases, one module per capability. They take a repository and return results."""
