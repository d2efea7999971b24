//! The inline daemon.
