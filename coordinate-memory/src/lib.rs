//! In-memory coordinate backend (skeleton; filled by the memory issue).
#![warn(missing_docs)]
