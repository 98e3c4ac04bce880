//! OpenClaw's own files, read the way OpenClaw reads them: `openclaw.json`
//! ([`config`], JSON5), an agent's auth-profile store ([`profiles`]) and auth
//! state ([`state`]), and the `profile=` lines of its log ([`log`]). What a
//! correct dispatch does with them is the reference dispatcher's business.

pub mod config;
pub mod log;
pub mod profiles;
pub mod state;
