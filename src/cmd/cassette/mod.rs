//! `cassette recover | import | export`: work with cassette files.

pub mod export;
pub mod import;
pub mod recover;
