//! Step 4: the credential. Candidates in order (auth-state order, else
//! `auth.order`, else configured `auth.profiles`, else every stored profile of
//! the provider), the ineligible dropped, then the provider's env key, then
//! `models.providers.<id>.apiKey`. An env key never stands in for a provider it
//! does not belong to: that silent swap is a known bug class (#81941, #72060).

use super::route::Target;
use super::{Candidate, Context, CredentialSource, Refusal, Trace};
use crate::credential;
use crate::dispatch::inputs::{MAIN_AGENT, config_key_profile};
use crate::openclaw::profiles::CredentialType;

/// The credential chosen, with its value (kept out of every plan).
pub(super) struct Chosen {
    pub profile: String,
    pub source: CredentialSource,
    pub migrated_from: Option<String>,
    pub inherited: bool,
    /// The agent whose store holds the entry, for a profile.
    pub store: Option<String>,
    pub ty: CredentialType,
    pub kind: &'static str,
    pub secret: String,
    /// The ChatGPT account id and where it was read.
    pub account: Option<(String, &'static str)>,
    pub refresh_first: bool,
}

/// The outcome of step 4.
pub(super) struct CredentialChoice {
    pub chosen: Option<Chosen>,
    pub candidates: Vec<Candidate>,
}

/// The explicit order of `provider`: auth-state's, else the config's `auth.order`.
pub(super) fn explicit_order<'c>(context: &'c Context<'_>, provider: &str) -> Option<(&'c [String], String)> {
    let inputs = &context.inputs;
    let state = inputs.state.order.get(provider).filter(|ids| !ids.is_empty());
    let config = inputs.config.auth.order.get(provider).filter(|ids| !ids.is_empty());
    match (state, config) {
        (Some(ids), _) => Some((ids, format!("auth-state.json order.{provider}"))),
        (None, Some(ids)) => Some((ids, format!("auth.order.{provider}"))),
        (None, None) => None,
    }
}

/// Candidate ids, where they came from, and whether the order is explicit.
fn candidate_ids(context: &Context<'_>, provider: &str) -> (Vec<String>, String, bool) {
    if let Some((ids, from)) = explicit_order(context, provider) {
        return (ids.to_vec(), from, true);
    }
    let configured: Vec<String> = context
        .inputs
        .config
        .auth
        .profiles
        .iter()
        .filter(|(_, p)| p.provider.as_deref() == Some(provider))
        .map(|(id, _)| id.clone())
        .collect();
    if !configured.is_empty() {
        return (configured, format!("the configured auth.profiles of {provider}"), false);
    }
    let stored =
        context.store.profiles.iter().filter(|(_, c)| c.provider == provider).map(|(id, _)| id.clone());
    (stored.collect(), format!("every stored {provider} profile"), false)
}

/// An eligible candidate and what orders it.
struct Eligible {
    id: String,
    ty: CredentialType,
    last_used: Option<i64>,
    cooling: Option<String>,
    refresh_first: bool,
    note: String,
}

/// Whether profile `id` can authenticate `provider` now, and why not.
fn check(context: &Context<'_>, id: &str, provider: &str) -> Result<Eligible, String> {
    let Some(cred) = context.store.profiles.get(id) else {
        return Err("not in the auth store".into());
    };
    if cred.provider != provider {
        return Err(format!("belongs to provider {}", cred.provider));
    }
    let mode = context.inputs.config.auth.profiles.get(id).and_then(|p| p.mode.as_deref());
    if let Some(mode) = mode
        && CredentialType::parse(mode) != Some(cred.kind)
    {
        return Err(format!("auth.profiles.{id}.mode is {mode} but the stored credential is {}", cred.kind));
    }
    if cred.secret.as_deref().is_none_or(str::is_empty) {
        return Err(format!("stored {} has no value", cred.kind));
    }
    let now = context.inputs.now_ms;
    let expired = cred.expires_ms.filter(|t| *t <= now);
    let refresh_first = expired.is_some() && cred.kind == CredentialType::Oauth && cred.has_refresh;
    if let (Some(at), false) = (expired, refresh_first) {
        return Err(format!("{} expired at {at} and has no refresh token", cred.kind));
    }
    let usage = context.inputs.state.usage(id);
    let mut note = cred.kind.to_string();
    if let Some(at) = expired {
        note.push_str(&format!(", expired at {at}: refreshed first with its refresh token"));
    }
    if let Some(at) = usage.last_used {
        note.push_str(&format!(", last used {at}"));
    }
    let cooling = usage.cooling_down(now);
    if let Some(why) = &cooling {
        note.push_str(&format!(", {why}: tried last"));
    }
    if context.store.inherited.contains(id) {
        note.push_str(&format!(", inherited from agent {MAIN_AGENT}"));
    }
    Ok(Eligible {
        id: id.to_owned(),
        ty: cred.kind,
        last_used: usage.last_used,
        cooling,
        refresh_first,
        note,
    })
}

/// Without an explicit order: OAuth before token before API key, then least
/// recently used (never used first). Either way, profiles in cooldown go last.
fn order(mut eligible: Vec<Eligible>, explicit: bool) -> Vec<Eligible> {
    if !explicit {
        eligible.sort_by(|a, b| (a.ty, a.last_used, &a.id).cmp(&(b.ty, b.last_used, &b.id)));
    }
    let (ready, cooling): (Vec<_>, Vec<_>) = eligible.into_iter().partition(|e| e.cooling.is_none());
    ready.into_iter().chain(cooling).collect()
}

fn from_profile(context: &Context<'_>, eligible: &Eligible) -> Option<Chosen> {
    let cred = context.store.profiles.get(&eligible.id)?;
    let secret = cred.secret.clone()?;
    let account = match credential::chatgpt_account_id(&secret) {
        Some(id) => Some((id, "the JWT claim https://api.openai.com/auth.chatgpt_account_id")),
        None => cred.account_id.clone().map(|id| (id, "the stored accountId")),
    };
    let inherited = context.store.inherited.contains(&eligible.id);
    let store = if inherited { MAIN_AGENT } else { context.inputs.agent.as_str() };
    Some(Chosen {
        profile: eligible.id.clone(),
        source: CredentialSource::Profile,
        migrated_from: context.renamed_profiles.get(&eligible.id).cloned(),
        inherited,
        store: Some(store.to_owned()),
        ty: cred.kind,
        kind: credential::classify(&secret),
        secret,
        account,
        refresh_first: eligible.refresh_first,
    })
}

pub(super) fn from_secret(
    profile: String,
    source: CredentialSource,
    ty: CredentialType,
    secret: &str,
) -> Chosen {
    let account = credential::chatgpt_account_id(secret).map(|id| (id, "the JWT claim"));
    Chosen {
        profile,
        source,
        migrated_from: None,
        inherited: false,
        store: None,
        ty,
        kind: credential::classify(secret),
        secret: secret.to_owned(),
        account,
        refresh_first: false,
    }
}

/// Which store's entry is bound, and why, when main's store is in play.
fn store_why(context: &Context<'_>, chosen: &Chosen) -> Option<String> {
    let agent = &context.inputs.agent;
    let main = context.inputs.agent_stores.get(MAIN_AGENT).filter(|_| agent != MAIN_AGENT)?;
    let id = &chosen.profile;
    Some(match chosen.store.as_deref()? {
        MAIN_AGENT => format!("agent {MAIN_AGENT}'s {id}, inherited: agent {agent}'s store has no {id}"),
        _ if main.profiles.contains_key(id) => format!(
            "agent {agent}'s own {id}: agent {MAIN_AGENT}'s store holds an entry of that id too, and an agent's own entry wins"
        ),
        _ => format!("agent {agent}'s own {id}"),
    })
}

/// The provider's env key, then its config key.
fn fallback_source(context: &Context<'_>, target: &Target<'_>) -> Option<(Chosen, String)> {
    let env = target.env().iter().find_map(|key| {
        let secret = context.inputs.env.get(&key.var).filter(|s| !s.is_empty())?;
        let why = format!("env {} is the {} key of provider {}", key.var, key.kind, target.id);
        Some((from_secret(format!("env:{}", key.var), CredentialSource::Env, key.kind, secret), why))
    });
    env.or_else(|| {
        let secret = target.config?.api_key.as_deref().filter(|s| !s.is_empty())?;
        let profile = config_key_profile(&target.id);
        let why = format!("{profile} (no eligible profile, no env key)");
        Some((from_secret(profile, CredentialSource::Config, CredentialType::ApiKey, secret), why))
    })
}

/// Env keys that are set but belong to another provider: named so a reader
/// sees they were deliberately not used.
fn foreign_env_keys(context: &Context<'_>, provider: &str) -> Vec<String> {
    let providers = context.catalog.providers.iter().filter(|(id, _)| *id != provider);
    providers
        .flat_map(|(id, p)| p.env.iter().map(move |k| (id, &k.var)))
        .filter(|(_, var)| context.inputs.env.get(*var).is_some_and(|v| !v.is_empty()))
        .map(|(id, var)| {
            format!("env {var} is set but is the key of provider {id}, never used for {provider}")
        })
        .collect()
}

/// Why a credential may not be used for this call, if it may not (a
/// ChatGPT login at api.openai.com); `None` admits it.
pub(super) type Admit<'a> = &'a dyn Fn(&Chosen) -> Option<String>;

/// Step 4.
pub(super) fn choose(
    context: &Context<'_>,
    target: &Target<'_>,
    trace: &mut Trace,
) -> Result<CredentialChoice, Refusal> {
    choose_admitting(context, target, trace, &|_| None)
}

/// Step 4, skipping the credentials `admit` turns away (each becomes an
/// ineligible candidate with the reason).
pub(super) fn choose_admitting(
    context: &Context<'_>,
    target: &Target<'_>,
    trace: &mut Trace,
    admit: Admit<'_>,
) -> Result<CredentialChoice, Refusal> {
    let provider = target.id.as_str();
    if let Some(why) = target.no_auth_header() {
        trace.step("credential", "none", why);
        return Ok(CredentialChoice { chosen: None, candidates: Vec::new() });
    }
    let (ids, from, explicit) = candidate_ids(context, provider);
    let (eligible, ineligible): (Vec<_>, Vec<_>) =
        ids.iter().map(|id| (id, check(context, id, provider))).partition(|(_, r)| r.is_ok());
    let eligible = order(eligible.into_iter().filter_map(|(_, r)| r.ok()).collect(), explicit);
    let mut candidates: Vec<Candidate> = eligible
        .iter()
        .map(|e| Candidate { profile: e.id.clone(), eligible: true, why: e.note.clone() })
        .collect();
    candidates.extend(
        ineligible
            .into_iter()
            .filter_map(|(id, r)| r.err().map(|why| Candidate { profile: id.clone(), eligible: false, why })),
    );
    let rule = if explicit {
        "explicit order kept"
    } else {
        "OAuth before token before API key, then least recently used"
    };
    let considered = match ids.is_empty() {
        true => format!("candidates: {from}: none"),
        false => format!("candidates: {from} ({rule}; cooldown last)"),
    };
    let mut turned_away = Vec::new();
    let mut admitted = |chosen: &Chosen| match admit(chosen) {
        None => true,
        Some(why) => {
            turned_away.push(Candidate { profile: chosen.profile.clone(), eligible: false, why });
            false
        }
    };
    let from_store = eligible.iter().filter_map(|e| from_profile(context, e)).find(|c| admitted(c));
    let chosen = match from_store {
        Some(chosen) => Some((chosen, considered.clone())),
        None => fallback_source(context, target)
            .filter(|(chosen, _)| admitted(chosen))
            .map(|(chosen, why)| (chosen, format!("{considered}; none eligible; {why}"))),
    };
    let turned_note: Vec<String> =
        turned_away.iter().map(|c| format!("{} turned away: {}", c.profile, c.why)).collect();
    for rejected in turned_away {
        match candidates.iter_mut().find(|c| c.profile == rejected.profile) {
            Some(candidate) => *candidate = rejected,
            None => candidates.push(rejected),
        }
    }
    if let Some((chosen, mut why)) = chosen {
        if let Some(store) = store_why(context, &chosen) {
            why = format!("{why}; {store}");
        }
        for note in &turned_note {
            why = format!("{why}; {note}");
        }
        let decision = format!(
            "{} ({} {}, {})",
            chosen.profile,
            chosen.ty,
            chosen.kind,
            credential::fingerprint(&chosen.secret)
        );
        trace.step("credential", decision, why);
        return Ok(CredentialChoice { chosen: Some(chosen), candidates });
    }
    if !target.needs_credential() {
        trace.step("credential", "none", format!("{considered}; provider {provider} needs no credential"));
        return Ok(CredentialChoice { chosen: None, candidates });
    }
    if let Some(local) = target.synthetic_local() {
        trace.step("credential", "none (synthetic local auth)", format!("{considered}; {local}"));
        return Ok(CredentialChoice { chosen: None, candidates });
    }
    let mut why = vec![considered];
    why.extend(candidates.iter().map(|c| format!("{} {}", c.profile, c.why)));
    let vars: Vec<&str> = target.env().iter().map(|k| k.var.as_str()).collect();
    why.push(if vars.is_empty() {
        format!("provider {provider} has no env key")
    } else {
        format!("{} not set", vars.join(", "))
    });
    why.extend(target.provider.and_then(|p| p.unmodelled_auth.clone()));
    why.extend(foreign_env_keys(context, provider));
    trace.step("credential", "none eligible", why.join("; "));
    let mut error = trace.fail(format!("No API key found for provider \"{provider}\""));
    error.candidates = candidates;
    Err(error)
}
