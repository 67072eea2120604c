//! Integration tests of qm-interchange, one binary: reading, writing, times, round trips.

mod read;
mod roundtrip;
mod time;
