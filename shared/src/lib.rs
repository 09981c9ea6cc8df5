//! The core of the notes suite, shared by every function, the local stack and the tests:
//! the domain and its validation, the event catalog, the table's key design, the ports and
//! their AWS adapters (and in-memory fakes), authentication, the HTTP edge, errors, telemetry.

pub mod auth;
pub mod aws;
pub mod broadcast;
pub mod config;
pub mod domain;
pub mod editing;
pub mod error;
pub mod events;
pub mod function;
pub mod http;
pub mod keys;
pub mod pagination;
pub mod ports;
pub mod push;
pub mod telemetry;
pub mod topology;

#[cfg(feature = "fakes")]
pub mod fakes;

pub use error::ApiError;
