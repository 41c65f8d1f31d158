//! go-coordinate's REST API for the `coordinate` crates: the wire format
//! ([`wire`]) shared with the `coordinated` server, and (feature
//! `client`, on by default) a backend that talks to such a server over
//! HTTP.
#![warn(missing_docs)]

pub mod wire;
