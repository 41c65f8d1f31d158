//! PostgreSQL coordinate backend (skeleton; filled by the PostgreSQL issue).
#![warn(missing_docs)]
