use super::fields::*;
use super::*;
use crate::cassette::Side;
use crate::cassette::model::Payload;
use crate::cassette::model::{Request, Response, SseEvent, WebSocketSession, WsMessage};
use crate::exchange::content::percent_decode;
use serde_json::json;

fn interaction(url: &str, headers: &[(&str, &str)], body: BodyContent) -> Interaction {
    let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let request = Request::new("POST", url, headers, Body::from(body));
    let response = Response { status: 200, headers: Vec::new(), body: Body::default() };
    Interaction { response: Some(response), ..Interaction::new(1, request) }
}

fn text(i: &Interaction) -> String {
    serde_json::to_string(i).unwrap()
}

mod pure {
    use super::*;

    #[test]
    fn fields_that_always_hold_a_secret_give_up_any_value() {
        // Shorter than what audit reports: redaction takes whatever is there.
        assert_eq!(field_secret("refreshToken", "r"), Some("r"));
        assert_eq!(field_secret("client_secret", "abc"), Some("abc"));
    }

    #[test]
    fn generic_names_need_a_secret_shaped_value() {
        assert_eq!(field_secret("token", "Hello"), None);
        assert_eq!(field_secret("key", "temperature setting 1"), None);
        assert_eq!(field_secret("key", "AIzaSyA1234567890abcdef"), Some("AIzaSyA1234567890abcdef"));
    }

    #[test]
    fn authorization_field_keeps_its_scheme() {
        assert_eq!(field_secret("Authorization", "Bearer abc"), Some("abc"));
    }

    #[test]
    fn markers_are_never_secrets() {
        assert_eq!(field_secret("password", &redaction_marker("x")), None);
    }

    #[test]
    fn header_secret_positions() {
        let secrets = |name, value| header_secrets(name, value).map(|(_, s)| s).unwrap_or_default();
        assert_eq!(secrets("authorization", "Bearer sk-1"), ["sk-1"]);
        assert_eq!(secrets("authorization", "sk-1"), ["sk-1"]);
        assert_eq!(secrets("cookie", "a=1; b=2; c="), ["1", "2"]);
        assert_eq!(secrets("set-cookie", "sid=xyz; Path=/; HttpOnly"), ["xyz"]);
        let custom = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert_eq!(secrets("x-custom-secret", custom), [custom]);
        assert!(secrets("x-ratelimit-remaining-tokens", "150000").is_empty());
    }

    #[test]
    fn cookie_values_are_replaced_pair_by_pair() {
        let out = replace_pair_values("a=a; b=2", &["a", "2"], &mut |s| format!("<{s}>"));
        assert_eq!(out, "a=<a>; b=<2>");
    }

    #[test]
    fn percent_coding_round_trips() {
        assert_eq!(percent_encode("a/b+c d"), "a%2Fb%2Bc%20d");
        assert_eq!(percent_decode("a%2Fb%2Bc+d").as_deref(), Some("a/b+c d"));
        assert_eq!(percent_decode("%zz"), None);
    }
}

mod by_position {
    use super::*;

    #[test]
    fn bearer_keeps_its_scheme_and_records_facts() {
        let mut i =
            interaction("https://a/", &[("authorization", "Bearer sk-proj-1234")], BodyContent::Empty(true));
        let mut r = Redactor::new(&[]);
        r.redact(&mut i);
        let marker = redaction_marker("sk-proj-1234");
        assert_eq!(i.request.headers[0].1, format!("Bearer {marker}"));
        assert_eq!(r.credentials()[&fingerprint("sk-proj-1234")].kind, "openai-key");
    }

    #[test]
    fn cookies_keep_their_names() {
        let mut i = interaction("https://a/", &[("cookie", "sid=abc; theme=dark")], BodyContent::Empty(true));
        Redactor::new(&[]).redact(&mut i);
        let value = &i.request.headers[0].1;
        assert!(value.starts_with("sid=[REDACTED sha256:") && value.contains("; theme=[REDACTED"), "{value}");
    }

    #[test]
    fn secret_query_params_get_url_safe_markers() {
        let mut i =
            interaction("https://g/v1?alt=sse&key=AIzaSyD-secret-1234#f", &[], BodyContent::Empty(true));
        Redactor::new(&[]).redact(&mut i);
        let marker = url_marker(&redaction_marker("AIzaSyD-secret-1234"));
        assert_eq!(i.request.url, format!("https://g/v1?alt=sse&key={marker}#f"));
        assert!(i.request.url.parse::<http::Uri>().is_ok());
    }

    #[test]
    fn json_fields_at_any_depth() {
        let body = BodyContent::Json(json!({"auth": {"refresh_token": "rt-1"}, "model": "m"}));
        let mut i = interaction("https://a/", &[], body);
        Redactor::new(&[]).redact(&mut i);
        assert_eq!(
            i.request.body.content,
            BodyContent::Json(json!({"auth": {"refresh_token": redaction_marker("rt-1")}, "model": "m"}))
        );
    }

    #[test]
    fn form_fields_in_requests() {
        let mut i = interaction(
            "https://auth/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            BodyContent::Text("grant_type=refresh_token&refresh_token=rt%2F1&client_id=app".into()),
        );
        Redactor::new(&[]).redact(&mut i);
        let marker = url_marker(&redaction_marker("rt/1"));
        assert_eq!(
            i.request.body.content,
            BodyContent::Text(format!("grant_type=refresh_token&refresh_token={marker}&client_id=app"))
        );
    }

    #[test]
    fn token_fields_in_text_responses() {
        let mut i = interaction("https://auth/oauth/token", &[], BodyContent::Empty(true));
        let raw = "{\"access_token\": \"at-123\", \"expires_in\": 3600}\n";
        i.response.as_mut().unwrap().body = Body::from(BodyContent::Text(raw.into()));
        Redactor::new(&[]).redact(&mut i);
        let expected =
            format!("{{\"access_token\": \"{}\", \"expires_in\": 3600}}\n", redaction_marker("at-123"));
        assert_eq!(i.response.unwrap().body.content, BodyContent::Text(expected));
    }
}

mod by_value {
    use super::*;

    #[test]
    fn a_secret_seen_once_is_redacted_later_anywhere() {
        let mut r = Redactor::new(&[]);
        let mut first =
            interaction("https://a/", &[("x-api-key", "opaque-secret-1")], BodyContent::Empty(true));
        r.redact(&mut first);
        let body = BodyContent::Json(json!({"note": "key was opaque-secret-1"}));
        let mut later = interaction("https://b/?q=opaque-secret-1", &[], body);
        later.error = Some("failed with opaque-secret-1".into());
        r.redact(&mut later);
        assert!(!text(&later).contains("opaque-secret-1"), "{}", text(&later));
    }

    #[test]
    fn short_secrets_are_redacted_only_where_found() {
        let mut r = Redactor::new(&[]);
        let mut i = interaction("https://a/", &[("cookie", "n=1")], BodyContent::Text("1 2 3".into()));
        r.redact(&mut i);
        assert_eq!(i.request.body.content, BodyContent::Text("1 2 3".into()));
        assert!(r.seen_secrets().is_empty());
    }

    #[test]
    fn token_shaped_values_are_redacted_without_a_name() {
        let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz";
        let mut i = interaction("https://a/", &[], BodyContent::Text(format!("use {key} here")));
        let mut r = Redactor::new(&[]);
        r.redact(&mut i);
        assert_eq!(i.request.body.content, BodyContent::Text(format!("use {} here", redaction_marker(key))));
        assert_eq!(r.credentials()[&fingerprint(key)].kind, "anthropic-key");
    }

    #[test]
    fn secrets_used_as_json_keys_are_replaced_in_order() {
        let mut r = Redactor::new(&[]);
        r.learn("key-secret-1");
        let mut i =
            interaction("https://a/", &[], BodyContent::Json(json!({"a": 1, "key-secret-1": 2, "z": 3})));
        r.redact(&mut i);
        let BodyContent::Json(Value::Object(map)) = &i.request.body.content else { panic!() };
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["a", redaction_marker("key-secret-1").as_str(), "z"]);
    }

    #[test]
    fn secrets_inside_binary_bodies_are_replaced_in_the_bytes() {
        let mut r = Redactor::new(&[]);
        r.learn("binary-secret-1");
        let bytes = [&[0xff_u8][..], b"binary-secret-1"].concat();
        let mut i = interaction("https://a/", &[], BodyContent::Base64(BASE64.encode(&bytes)));
        r.redact(&mut i);
        let BodyContent::Base64(out) = &i.request.body.content else { panic!() };
        let decoded = BASE64.decode(out).unwrap();
        assert!(decoded.ends_with(redaction_marker("binary-secret-1").as_bytes()));
    }

    #[test]
    fn sse_data_and_websocket_messages_are_scrubbed() {
        let mut r = Redactor::new(&[]);
        r.learn("stream-secret-1");
        let mut i = interaction("https://a/", &[], BodyContent::Empty(true));
        let event =
            SseEvent { t_ms: 0, event: None, id: None, retry: None, data: "x stream-secret-1".into() };
        i.response.as_mut().unwrap().body = Body::from(BodyContent::Sse(vec![event]));
        i.websocket = Some(WebSocketSession {
            messages: vec![WsMessage {
                from: Side::Server,
                t_ms: 0,
                payload: Payload::Text(r#"{"token":"stream-secret-1"}"#.into()),
            }],
            close: None,
        });
        r.redact(&mut i);
        assert!(!text(&i).contains("stream-secret-1"));
    }
}

mod profiles {
    use super::*;

    fn store() -> AuthStore {
        let jwt = credential::mint_unsigned_jwt(
            &json!({"https://api.openai.com/auth": {"chatgpt_account_id": "acct-1"}}),
        );
        AuthStore::from_value(&json!({"profiles": {
            "openai-codex:u@example.com": {"type": "oauth", "provider": "openai-codex", "access": jwt},
            "anthropic:k": {"type": "api_key", "provider": "anthropic", "key": "sk-ant-api03-profilekey0000000000"}
        }}))
        .unwrap()
    }

    #[test]
    fn fingerprints_name_profile_kind_and_account() {
        let store = store();
        let jwt = store.profiles["openai-codex:u@example.com"].secret.clone().unwrap();
        let mut r = Redactor::new(&[store]);
        let auth = format!("Bearer {jwt}");
        let mut i = interaction(
            "https://chatgpt.com/backend-api/codex/responses",
            &[("authorization", &auth)],
            BodyContent::Empty(true),
        );
        r.redact(&mut i);
        let facts = &r.credentials()[&fingerprint(&jwt)];
        assert_eq!(facts.kind, "jwt");
        assert_eq!(facts.profile.as_deref(), Some("openai-codex:u@example.com"));
        assert_eq!(facts.account, Some(fingerprint("acct-1")));
    }

    #[test]
    fn profile_secrets_are_redacted_anywhere_but_listed_only_when_used() {
        let mut r = Redactor::new(&[store()]);
        let mut i =
            interaction("https://a/", &[], BodyContent::Text("k=sk-ant-api03-profilekey0000000000".into()));
        r.redact(&mut i);
        assert!(!text(&i).contains("profilekey"));
        assert_eq!(r.credentials().len(), 1);
        let facts = r.credentials().values().next().unwrap();
        assert_eq!(facts.profile.as_deref(), Some("anthropic:k"));
    }
}

mod joined_pieces {
    use super::*;
    use crate::cassette::model::Chunk;

    #[test]
    fn a_field_whose_name_and_value_arrive_in_different_chunks() {
        let chunks = vec![
            Chunk { t_ms: 0, payload: Payload::Text("{\n  \"access_token\": \"".into()) },
            Chunk {
                t_ms: 1,
                payload: Payload::Text(
                    "dfa0421d063d7c82a9851222f9c48f10\",\n  \"token_type\": \"Bearer\"\n".into(),
                ),
            },
            Chunk { t_ms: 2, payload: Payload::Text("}\n".into()) },
        ];
        let mut i = interaction("https://api.openai.com/chunks", &[], BodyContent::Empty(true));
        i.response.as_mut().unwrap().body = Body::from(BodyContent::Chunks(chunks));
        Redactor::default().redact(&mut i);
        assert!(!text(&i).contains("dfa0421d"), "{}", text(&i));
    }
}

/// A JSON body held as text is redacted exactly as the same body parsed.
mod json_text_as_value {
    use super::*;
    use proptest::prelude::*;

    /// Strings a dispatch carries, and secrets in every form the redactor knows.
    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,12}",
            "[A-Za-z0-9]{24}".prop_map(|s| format!("sk-proj-{s}")),
            "[A-Za-z0-9]{16}".prop_map(|s| format!("Bearer opaque{s}")),
            "[A-Za-z0-9]{12}".prop_map(|s| format!("grant_type=x&refresh_token={s}")),
            "[A-Za-z0-9]{12}".prop_map(|s| format!("Authorization: Bearer tok{s}\nnext: line")),
            "[A-Za-z0-9]{12}".prop_map(|s| format!("{{\"api_key\": \"{s}\"}}")),
            Just("seen-secret-0001 in a sentence".to_owned()),
            Just("a \"quoted\" / slashed\t\u{e9}\u{1f600} text".to_owned()),
            Just("https://h/path?x=1".to_owned()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("model".to_owned()),
            Just("api_key".to_owned()),
            Just("password".to_owned()),
            Just("token".to_owned()),
            Just("access_token".to_owned()),
            Just("seen-secret-0001".to_owned()),
            "[a-z]{1,10}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![string().prop_map(Value::String), any::<i32>().prop_map(Value::from)];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..4)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// `body` as `json` and as text, each redacted by a redactor that saw
    /// the same interaction before; the text one then settled.
    fn both(body: &Value, text: &str) -> ((Interaction, Redactor), (Interaction, Redactor)) {
        let run = |content: BodyContent| {
            let mut redactor = Redactor::new(&[]);
            let mut first =
                interaction("https://a/", &[("x-api-key", "seen-secret-0001")], BodyContent::Empty(true));
            redactor.redact(&mut first);
            let mut i = interaction("https://a/", &[], content.clone());
            i.response.as_mut().unwrap().body = Body::from(content);
            redactor.redact(&mut i);
            i.settle();
            (i, redactor)
        };
        (run(BodyContent::Json(body.clone())), run(BodyContent::JsonText(JsonText::new(text).unwrap())))
    }

    fn sorted(mut items: Vec<String>) -> Vec<String> {
        items.sort();
        items
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn same_result_same_secrets(fields in prop::collection::vec((key(), value()), 1..5), pretty: bool, slashes: bool) {
            let body = Value::Object(fields.into_iter().collect());
            let mut text = if pretty { serde_json::to_string_pretty(&body).unwrap() } else { body.to_string() };
            if slashes {
                text = text.replace('/', "\\/");
            }
            let ((parsed, by_value), (as_text, by_text)) = both(&body, &text);
            prop_assert_eq!(&as_text, &parsed);
            prop_assert_eq!(by_text.credentials(), by_value.credentials());
            prop_assert_eq!(sorted(by_text.seen_secrets()), sorted(by_value.seen_secrets()));
        }
    }

    #[test]
    fn a_secret_in_a_text_body_is_replaced_in_its_text() {
        let text =
            r#"{"note":"seen-secret-0001","password":"pw","list":["sk-proj-abcdefghijklmnopqrstuvwx"]}"#;
        let mut redactor = Redactor::new(&[]);
        redactor.learn("seen-secret-0001");
        let mut i = interaction("https://a/", &[], BodyContent::JsonText(JsonText::new(text).unwrap()));
        redactor.redact(&mut i);
        let BodyContent::JsonText(json) = &i.request.body.content else { panic!("settled too early") };
        let expected = format!(
            r#"{{"note":"{}","password":"{}","list":["{}"]}}"#,
            redaction_marker("seen-secret-0001"),
            redaction_marker("pw"),
            redaction_marker("sk-proj-abcdefghijklmnopqrstuvwx")
        );
        assert_eq!(json.get(), expected);
    }
}
