"""The GraphQL schema by area: Strawberry types, inputs, payloads, enums and scalars, and the
Query, Mutation and Subscription fields of each area. No writes happen here: fields call
:mod:`packgraph.resolvers` and build the types from what they return.

:mod:`packgraph.schema.root` composes the root types from the areas; :mod:`packgraph.server.schema`
builds the served schema from them.
"""
