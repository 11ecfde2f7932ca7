"""Transport: the GraphQL endpoint over HTTP and WebSocket, the schema's extensions and limits,
and the executor that shares a subscription event's result between subscribers.

The top of the GraphQL stack: it builds the schema (``packgraph.schema``) and serves it; nothing
below imports it.
"""
