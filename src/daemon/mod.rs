//! The inline daemon.
pub mod alert;
pub mod control;
pub mod status;
pub mod syslog;

use crate::config::Config;
use std::path::Path;
pub fn run(_config: &Path, _foreground: bool) -> Result<(), String> {
    todo!()
}
pub fn status(_config: &Config, _json: bool) -> Result<String, String> {
    todo!()
}
pub fn unblock(_config: &Config, _target: &str) -> Result<String, String> {
    todo!()
}
