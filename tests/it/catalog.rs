//! `catalog import` on release trees made here (no package manager needed),
//! its bands read back by `dispatch plan --catalog`, its bad inputs, and the
//! 2026.9.5 → 2026.9.6 difference shown in docs/catalog.md (`UPDATE_DOCS=1
//! cargo test --test it catalog::` rewrites that block).

use std::path::{Path, PathBuf};
use std::process::Command;

use dispatch_vcr::dispatch::Catalog;

use crate::support::{BIN, root, update_committed};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(BIN).args(args).current_dir(dir).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// An installed release at `dir/oc-VERSION/node_modules/openclaw`: its
/// package.json and one manifest per `(plugin, manifest)`.
fn release(dir: &Path, version: &str, plugins: &[(&str, &str)]) -> PathBuf {
    let root = dir.join(format!("oc-{version}/node_modules/openclaw"));
    std::fs::create_dir_all(&root).unwrap();
    let package = format!(r#"{{"name": "openclaw", "version": "{version}", "type": "module"}}"#);
    std::fs::write(root.join("package.json"), package).unwrap();
    for (plugin, manifest) in plugins {
        let folder = root.join("dist/extensions").join(plugin);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("openclaw.plugin.json"), manifest).unwrap();
    }
    root
}

const ACME: &str = r#"{"id": "acme", "providers": ["acme"],
    "providerAuthChoices": [{"provider": "acme", "method": "api-key", "choiceId": "acme-api-key"}],
    "setup": {"providers": [{"id": "acme", "envVars": ["ACME_API_KEY"]}]},
    "modelCatalog": {"providers": {"acme": {"api": "openai-completions", "baseUrl": "https://llm.acme.test/v1",
                                            "models": [{"id": "acme-1"}]}}}}"#;
const LOCAL: &str = r#"{"id": "local", "providers": ["local"], "syntheticAuthRefs": ["local"],
    "providerEndpoints": [{"endpointClass": "local-native", "hosts": ["127.0.0.1"]}]}"#;
const LOCAL_V2: &str = r#"{"id": "local", "providers": ["local"], "syntheticAuthRefs": ["local"],
    "setup": {"providers": [{"id": "local", "envVars": ["LOCAL_API_KEY"]}]},
    "providerEndpoints": [{"endpointClass": "local-native", "hosts": ["127.0.0.1", "localhost"]}]}"#;

/// Versions older than every shipped band, so the fixture's bands come first
/// and their differences do not depend on what is shipped.
const OLD: &str = "2020.1.1";
const NEW: &str = "2020.1.2";

#[test]
fn import_writes_bands_and_prints_what_changed_against_the_band_before() {
    let dir = tempfile::tempdir().unwrap();
    let old =
        release(dir.path(), OLD, &[("acme", ACME), ("local", LOCAL), ("canvas", r#"{"id": "canvas"}"#)]);
    let new = release(dir.path(), NEW, &[("local", LOCAL_V2)]);
    let catalog = dir.path().join("my-catalog.json");
    let import = |tree: &Path| {
        run(
            dir.path(),
            &["catalog", "import", tree.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()],
        )
    };

    let first = import(&old);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(
        first.stdout,
        "2020.1.1 no earlier band: 2 providers, 1 endpoint classes\n\
         + provider acme: plugin acme; openai-completions at https://llm.acme.test/v1; env ACME_API_KEY; auth api-key; 1 models\n\
         + provider local: plugin local\n\
         + endpoint local-native: plugin local: 127.0.0.1\n\
         ~ synthetic auth + local\n"
    );
    assert!(first.stderr.contains("wrote band 2020.1.1 (2 providers)"), "{}", first.stderr);

    let second = import(&new);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        second.stdout,
        "2020.1.2 against 2020.1.1: 1 providers, 1 endpoint classes\n\
         - provider acme\n\
         ~ provider local: env + LOCAL_API_KEY\n\
         ~ endpoint local-native: host + localhost\n"
    );
    let again = import(&new);
    assert_eq!((again.code, again.stdout), (0, second.stdout));
    assert!(
        again.stderr.contains("band 2020.1.2 in") && again.stderr.contains("is up to date"),
        "{}",
        again.stderr
    );

    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&catalog).unwrap()).unwrap();
    let versions: Vec<&str> =
        written["releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, [OLD, NEW]);
}

#[test]
fn plan_names_the_bands_that_bundle_a_provider_and_the_closest_id() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("my-catalog.json");
    for (version, plugins) in [(OLD, &[("acme", ACME), ("local", LOCAL)][..]), (NEW, &[("local", LOCAL_V2)])]
    {
        let tree = release(dir.path(), version, plugins);
        let args = ["catalog", "import", tree.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()];
        assert_eq!(run(dir.path(), &args).code, 0);
    }
    std::fs::write(dir.path().join("openclaw.json"), "{}").unwrap();
    let plan = |model: &str| {
        let args = ["dispatch", "plan", "--config", "openclaw.json", "--catalog", "my-catalog.json"];
        run(dir.path(), &[&args[..], &["--version", NEW, "--model", model]].concat())
    };
    let gone = plan("acme/acme-1");
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(
        gone.stderr.contains("Unknown provider \"acme\"")
            && gone.stderr.contains("openclaw 2020.1.2 does not bundle it, bands 2020.1.1 do"),
        "{}",
        gone.stderr
    );
    let typo = plan("locla/x");
    assert!(typo.stderr.contains("(did you mean local?)"), "{}", typo.stderr);
    let unruled = plan("local/x");
    assert!(
        unruled.stderr.contains("\"local\" is bundled in openclaw 2020.1.2 (plugin local)")
            && unruled.stderr.contains("no dispatch rules"),
        "{}",
        unruled.stderr
    );
}

#[test]
fn bad_release_folders_and_manifests_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("c.json");
    let import = |tree: &Path| {
        run(
            dir.path(),
            &["catalog", "import", tree.to_str().unwrap(), "--catalog", catalog.to_str().unwrap()],
        )
    };
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = import(&empty);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("empty/package.json: not found") && run.stderr.contains("node_modules/openclaw")
    );

    let bare = release(dir.path(), OLD, &[]);
    let run = import(&bare);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("dist/extensions: no plugin manifests"), "{}", run.stderr);

    let broken = release(dir.path(), NEW, &[("acme", "{\"id\": \"acme\",\n \"providers\": [\"acme\",]}")]);
    let run = import(&broken);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("acme/openclaw.plugin.json:2:") && run.stderr.contains("not valid JSON"),
        "{}",
        run.stderr
    );
    assert!(!catalog.exists(), "nothing is written on bad input");
}

#[test]
fn without_catalog_it_needs_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let tree = release(dir.path(), OLD, &[("acme", ACME)]);
    let run = run(dir.path(), &["catalog", "import", tree.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no src/dispatch/releases.json here") && run.stderr.contains("--catalog FILE"),
        "{}",
        run.stderr
    );
}

/// The fenced block after this line of docs/catalog.md.
const DOCS_MARK: &str = "<!-- catalog import 2026.9.6 after 2026.9.5: written by tests/it/catalog.rs -->";

#[test]
fn the_docs_show_what_importing_2026_9_6_after_2026_9_5_prints() {
    let catalog = Catalog::shipped().unwrap();
    let version = "2026.9.6".parse().unwrap();
    let release =
        catalog.releases.iter().find(|r| r.version == version).expect("the 2026.9.6 band is shipped");
    let previous = catalog.release_before(&version).unwrap();
    assert_eq!(previous.version.to_string(), "2026.9.5");
    let printed = release.changes_from(Some(previous)).join("\n");
    let path = root().join("docs/catalog.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    let start = docs.find(DOCS_MARK).expect("docs/catalog.md has the mark") + DOCS_MARK.len();
    let block_start = start + docs[start..].find("```text\n").unwrap() + "```text\n".len();
    let block_end = block_start + docs[block_start..].find("```").unwrap();
    let wanted = format!("{printed}\n");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        update_committed(&path, format!("{}{wanted}{}", &docs[..block_start], &docs[block_end..]));
    } else {
        assert_eq!(
            docs[block_start..block_end],
            wanted,
            "docs/catalog.md is stale: run `UPDATE_DOCS=1 cargo test --test it catalog::`"
        );
    }
}
