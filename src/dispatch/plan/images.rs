//! The image-generation call of the `image_generate` tool: a model call of
//! its own. Modelled: OpenAI's `{base}/images/generations` with an API key,
//! which may go only to hosts its provider owns. OpenClaw 2026.9.6 sends a
//! ChatGPT login's image requests through the Codex responses route on
//! chatgpt.com instead; that route is not modelled as an image call, so a
//! login is turned away here with the reason.

use serde::{Deserialize, Serialize};

use super::credentials::{self, Chosen};
use super::embeddings::{host_of, planned_credential, turned_away};
use super::route::Target;
use super::{Candidate, Context, PlannedCredential, Refusal, select};
use crate::dispatch::catalog::Catalog;
use crate::dispatch::inputs::DispatchInputs;
use crate::openclaw::profiles::CredentialType;

/// The image-generation call a correct OpenClaw makes. Serialised as docs/plan-json.md describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImagesPlan {
    /// The image provider (`openai`).
    pub provider: String,
    /// The image model (`gpt-image-2`).
    pub model: String,
    /// `METHOD URL`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// The catalog's endpoint class of `method` + `url`.
    pub endpoint_class: Option<String>,
    /// The credential.
    pub credential: Option<PlannedCredential>,
    /// Every credential candidate considered.
    pub candidates: Vec<Candidate>,
    /// The reasoning, one step per decision.
    pub steps: Vec<super::Step>,
    /// What may make real OpenClaw differ from this plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The model ref when `agents.defaults.mediaModels.image` is not set.
const DEFAULT_IMAGE_REF: &str = "openai/gpt-image-2";

const OPENAI_IMAGES_BASE_URL: &str = "https://api.openai.com/v1";

const SOURCE: &str = "//#region extensions/openai/image-generation-provider.ts (dist/image-generation-provider-*.mjs \
                      of 2026.9.6): {base}/images/generations with the key as a bearer, base \
                      https://api.openai.com/v1 or models.providers.openai's; //#region \
                      src/image-generation/runtime.ts reads agents.defaults.mediaModels.image";

/// Plan the image-generation call of `inputs` with `catalog`.
pub fn plan_images(inputs: &DispatchInputs, catalog: &Catalog) -> Result<ImagesPlan, Refusal> {
    let context = Context::new(inputs, catalog);
    let mut trace = context.prelude.clone();
    let setting = context.inputs.config.agents.defaults.media_models.image.as_ref();
    let reference = match setting.and_then(|s| s.primary()) {
        Some(reference) => {
            trace.step("image-model", reference, "agents.defaults.mediaModels.image");
            reference.to_owned()
        }
        None => {
            trace.warn(
                "image-model",
                format!(
                    "agents.defaults.mediaModels.image is not set: OpenClaw tries the image providers whose \
                     credentials resolve; the reference plans {DEFAULT_IMAGE_REF}"
                ),
                SOURCE,
            );
            DEFAULT_IMAGE_REF.to_owned()
        }
    };
    let model = select::split_ref(&reference).map_err(|m| trace.fail(m))?;
    if model.provider != "openai" {
        return Err(trace.fail(format!(
            "image provider {:?} is not modelled by the reference (it models openai's images/generations)",
            model.provider
        )));
    }
    let target = Target::find(&context, "openai", &model.model).map_err(|m| trace.fail(m))?;
    let configured = target.configured_base_url().map(str::to_owned);
    let base = configured.clone().unwrap_or_else(|| OPENAI_IMAGES_BASE_URL.to_owned());
    let url = format!("{}/images/generations", base.trim_end_matches('/'));
    let host =
        host_of(&url).ok_or_else(|| trace.fail(format!("image base URL {base:?} is not an absolute URL")))?;
    let endpoint_class = catalog.classify("POST", &url).map(|c| c.name.clone());
    let base_why =
        if configured.is_some() { "models.providers.openai.baseUrl" } else { "the default base URL" };
    trace.step(
        "endpoint",
        format!("POST {url} [{}]", endpoint_class.as_deref().unwrap_or("unclassified")),
        format!("{base_why}; {SOURCE}"),
    );
    let configured_host = configured.as_deref().and_then(host_of);
    let admit = |chosen: &Chosen| {
        if chosen.ty == CredentialType::Oauth {
            return Some(
                "a ChatGPT login generates images through the Codex responses route on chatgpt.com, which the \
                 reference does not model as an image call"
                    .to_owned(),
            );
        }
        turned_away(&context, "openai", chosen, &host, configured_host.as_deref())
    };
    let choice = credentials::choose_admitting(&context, &target, &mut trace, &admit)?;
    let credential = choice.chosen.map(|c| planned_credential(&c, "authorization", Some("Bearer"), &host));
    Ok(ImagesPlan {
        provider: model.provider,
        model: model.model,
        endpoint: format!("POST {url}"),
        method: "POST".to_owned(),
        url,
        endpoint_class,
        credential,
        candidates: choice.candidates,
        steps: trace.steps,
        warnings: trace.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn plan(inputs: Value) -> Result<ImagesPlan, Refusal> {
        let inputs =
            DispatchInputs::from_scenario_inputs(&inputs, Some("2026.9.6".parse().unwrap())).unwrap();
        plan_images(&inputs, &Catalog::shipped().unwrap())
    }

    #[test]
    fn the_openai_key_goes_to_images_generations() {
        let inputs = json!({"config": {"agents": {"defaults": {"mediaModels": {"image": "openai/gpt-image-1"}}}},
                            "env": {"OPENAI_API_KEY": "sk-proj-fixture-images"}});
        let p = plan(inputs).unwrap();
        assert_eq!(p.endpoint, "POST https://api.openai.com/v1/images/generations");
        assert_eq!((p.model.as_str(), p.endpoint_class.as_deref()), ("gpt-image-1", Some("openai-images")));
        assert_eq!(p.credential.unwrap().profile, "env:OPENAI_API_KEY");
    }

    #[test]
    fn a_login_is_turned_away_and_another_provider_is_not_modelled() {
        let login = json!({"version": 1, "profiles": {"openai:u": {"type": "oauth", "provider": "openai",
            "access": {"jwt": {"claims": {}}}, "refresh": "r", "expires": 4102444800000_i64}}});
        let refused = plan(json!({"config": {}, "auth_profiles": login})).unwrap_err();
        assert!(refused.candidates[0].why.contains("Codex responses route"), "{:?}", refused.candidates);
        let google =
            json!({"config": {"agents": {"defaults": {"mediaModels": {"image": "google/imagen-4"}}}}});
        assert!(plan(google).unwrap_err().message.contains("not modelled"));
    }
}
