"""Thin resolvers: authorise, call the domain, build the payload."""
