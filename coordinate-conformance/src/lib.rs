//! Shared behaviour suite (skeleton; filled by the memory issue).
#![warn(missing_docs)]
