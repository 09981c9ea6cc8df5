//! The core of the notes suite, shared by every function, the local stack and the tests, in
//! four layers, each a folder:
//!
//! - [`domain`]: notes, users and their validation, edits, the event catalog, the broadcast
//!   message; no I/O;
//! - [`ports`]: the traits every AWS call goes through (and `push_all`, written on them);
//! - [`adapters`]: the ports on AWS, their in-memory fakes, the table's key design;
//! - [`edge`]: the function model (every trigger kind, built from `topology.json`), the HTTP
//!   edge (requests, auth, errors, pages) and configuration.
//!
//! Beside them, read by every layer: [`topology`], the declarations of `shared/topology.json`,
//! and [`telemetry`], JSON logs and metrics.

pub mod adapters;
pub mod domain;
pub mod edge;
pub mod ports;
pub mod telemetry;
pub mod topology;

pub use edge::error::ApiError;
