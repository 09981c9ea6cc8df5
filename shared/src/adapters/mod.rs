//! The adapters: the ports of [`crate::ports`] implemented on AWS ([`aws`]), and in memory for
//! unit tests ([`fakes`]), with the table's key design both share ([`keys`]).

pub mod aws;
pub mod keys;

#[cfg(feature = "fakes")]
pub mod fakes;
