//! Integration tests of the PostgreSQL backend, on a real server (see `support`).

mod append;
mod conformance;
mod notify;
mod schema;
mod snapshot;
mod support;
