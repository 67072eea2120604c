//! Interchange format v1: JSON Lines records in and out, with file:line:field errors.
