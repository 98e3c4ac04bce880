//! OpenClaw's own files, read the way OpenClaw reads them: `openclaw.json`
//! ([`config`], JSON5), an agent's auth-profile store ([`profiles`]) and auth
//! state ([`state`]), a whole home as a release reads it, JSON or SQLite stores
//! ([`home`]), `$include`d config files ([`includes`]), made shareable with fixtures for its secrets ([`fixtures`]), the `profile=` lines of its log ([`log`]), and its
//! published releases with the per-version steps of a turn ([`releases`]). What a
//! correct dispatch does with them is the reference dispatcher's business.

pub mod config;
pub mod fixtures;
pub mod home;
pub mod includes;
pub mod log;
pub mod profiles;
pub mod releases;
pub mod state;
