//! The embedded backend: one local SQLite file, zero set-up.
