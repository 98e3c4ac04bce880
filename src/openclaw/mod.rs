//! OpenClaw's own files, read the way OpenClaw reads them: `openclaw.json`
//! ([`config`], JSON5), an agent's auth-profile store ([`profiles`]) and auth
//! state ([`state`]), the `profile=` lines of its log ([`log`]), and its
//! published releases with the per-version steps of a turn ([`releases`]). What a
//! correct dispatch does with them is the reference dispatcher's business.

pub mod config;
pub mod log;
pub mod profiles;
pub mod releases;
pub mod state;
