//! The GraphQL API on axum: schema, resolvers, caching, auth scopes, metrics, web assets.
