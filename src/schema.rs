//! JSON Schemas of the file formats, generated from the Rust types that read
//! them ([`crate::cassette::Cassette`], [`crate::scenario::Scenario`]), so
//! the schema cannot drift from the loader. `dispatch-vcr schema KIND`
//! prints one; the committed copies in `docs/schema/` are what the shipped
//! files' `"$schema"` keys point editors at, and a test keeps them current.
//!
//! Draft 7, the draft editors (VS Code, JetBrains, yaml/json language
//! servers) understand best.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// A file format with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Cassette v1 (`docs/schema/cassette-v1.json`).
    Cassette,
    /// Scenario v1 (`docs/schema/scenario-v1.json`).
    Scenario,
}

impl Kind {
    /// Every format, in the order they are documented.
    pub const ALL: [Kind; 2] = [Kind::Cassette, Kind::Scenario];

    /// The schema's file name in `docs/schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Cassette => "cassette-v1.json",
            Kind::Scenario => "scenario-v1.json",
        }
    }

    /// The schema as pretty JSON with a trailing newline.
    pub fn schema(self) -> String {
        let schema = match self {
            Kind::Cassette => generate::<crate::cassette::Cassette>("dispatch-vcr cassette v1"),
            Kind::Scenario => generate::<crate::scenario::Scenario>("dispatch-vcr scenario v1"),
        };
        // A schema is plain JSON data: serialising it cannot fail.
        let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn generate<T: JsonSchema>(title: &str) -> Schema {
    let mut schema = SchemaSettings::draft07().into_generator().into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    let mut value = schema.to_value();
    tidy_descriptions(&mut value);
    // Back to a `Schema`, whose serialisation puts `$schema`, `title`, `description` first.
    Schema::from(value.as_object().cloned().unwrap_or_default())
}

/// Descriptions come from doc comments: editors show them as plain text, so
/// rustdoc links (`` [`FORMAT_V1`] ``) lose their brackets and wrapped lines join.
fn tidy_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(text) if key == "description" => {
                        *text = text.replace("[`", "`").replace("`]", "`").replace('\n', " ");
                    }
                    other => tidy_descriptions(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy_descriptions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parsed(kind: Kind) -> Value {
        serde_json::from_str(&kind.schema()).unwrap()
    }

    #[test]
    fn schemas_are_draft_7_with_a_title() {
        for kind in Kind::ALL {
            let schema = parsed(kind);
            assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
            assert!(schema["title"].as_str().unwrap().starts_with("dispatch-vcr "));
        }
    }

    #[test]
    fn descriptions_are_plain_text() {
        let mut value = serde_json::json!({"description": "Always [`FORMAT_V1`] for\nthis.", "properties": {
            "a": {"description": "x\ny"}, "description": {"type": "string"}}});
        tidy_descriptions(&mut value);
        assert_eq!(value["description"], "Always `FORMAT_V1` for this.");
        assert_eq!(value["properties"]["a"]["description"], "x y");
        assert_eq!(
            value["properties"]["description"]["type"], "string",
            "a property named description is kept"
        );
    }

    #[test]
    fn format_is_pinned_and_dollar_schema_allowed() {
        let cassette = parsed(Kind::Cassette);
        assert_eq!(cassette["properties"]["format"]["const"], crate::cassette::FORMAT_V1);
        assert!(cassette["properties"]["$schema"].is_object());
        let scenario = parsed(Kind::Scenario);
        assert_eq!(scenario["properties"]["format"]["const"], crate::scenario::model::FORMAT_V1);
        assert_eq!(scenario["additionalProperties"], false);
    }
}
