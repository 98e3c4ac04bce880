//! `scenario from-openclaw`: make scenarios.

pub mod from_openclaw;
