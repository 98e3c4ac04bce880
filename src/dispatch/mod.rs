//! The reference dispatcher: OpenClaw's dispatch as an executable model.

pub mod profiles;
