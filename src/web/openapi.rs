//! The OpenAPI 3 document of API v1, served at `/api/v1/openapi.json`.
//! `tests/web_api.rs` walks every path in it against the running server.

pub const DOCUMENT: &str = include_str!("openapi.json");
