//! The edge: what turns a Lambda invocation into a call of the domain and back. The function
//! model ([`function`]) built from the declarations ([`crate::topology`]) and the settings
//! ([`config`]); the HTTP edge ([`http`], [`auth`], [`error`], [`pagination`]).

pub mod auth;
pub mod config;
pub mod editing;
pub mod error;
pub mod function;
pub mod http;
pub mod pagination;
