//! The inline daemon.

pub mod alert;
pub mod control;
pub mod status;
pub mod syslog;
