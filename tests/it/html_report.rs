//! `check --format html` rendered for real in headless Chromium (Debian's
//! `chromium` package, which `.ci/run` installs): the DOM after the page's
//! script ran holds every matrix cell of the JSON report, the failing cell a
//! link opens shows its diff, hostile text stays text, and the screenshot
//! in `docs/report.png` is a real rendering (`UPDATE_DOCS=1` rewrites it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dispatch_vcr::report::{self, CellOutcome, Report, ScenarioOutcome, Verdict};

use crate::support::{BIN, root, update_committed};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless Chromium with the flags this machine needs (no network, a fresh
/// profile); `None`, with the reason printed, when it is not installed.
fn chromium(args: &[&str]) -> Option<Output> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!(
            "skipped: {CHROMIUM} is absent; `apt-get install chromium` (as .ci/run does) to run this test"
        );
        return None;
    }
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(out)
}

fn dump_dom(url: &str) -> Option<String> {
    chromium(&["--dump-dom", url]).map(|out| String::from_utf8(out.stdout).unwrap())
}

fn url(path: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", path.display())
}

/// Run `dispatch-vcr check ARGS` on the shipped catalogue.
fn check(args: &[&str]) -> Output {
    Command::new(BIN).arg("check").args(args).current_dir(root()).output().unwrap()
}

/// The shipped catalogue's HTML report, written by the binary.
fn shipped_report(dir: &Path) -> PathBuf {
    let path = dir.join("report.html");
    let out = check(&["--format", "html", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    path
}

/// The value of attribute `name` in the start tag `tag`.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// Per matrix row: the scenario, then (version, verdict) of every cell that has a cassette.
fn matrix_from_dom(dom: &str) -> Vec<(String, Vec<(String, String)>)> {
    dom.split("<tr data-scenario=\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            let name = row[..row.find('"').unwrap()].to_owned();
            let cells = row
                .split("<td ")
                .skip(1)
                .map(|td| &td[..td.find('>').unwrap()])
                .filter_map(|tag| {
                    Some((
                        attribute(tag, "data-version")?.to_owned(),
                        attribute(tag, "data-verdict")?.to_owned(),
                    ))
                })
                .collect();
            (name, cells)
        })
        .collect()
}

fn verdict_key(verdict: Verdict) -> String {
    serde_json::to_value(verdict).unwrap().as_str().unwrap().to_owned()
}

#[test]
fn the_shipped_catalogue_renders_with_every_cell_and_an_opened_diff() {
    let dir = tempfile::tempdir().unwrap();
    let page = shipped_report(dir.path());
    // The #83380 cell: codex-runtime-binds-oauth-profile (scenario 4) at 2026.5.16-beta.4 (its 2nd cell).
    let Some(dom) = dump_dom(&url(&page, "#cell-5-2")) else { return };

    let json: Report = serde_json::from_slice(&check(&["--format", "json"]).stdout).unwrap();
    let expected: Vec<(String, Vec<(String, String)>)> = json
        .scenarios
        .iter()
        .map(|s| {
            (s.name.clone(), s.cells.iter().map(|c| (c.version.clone(), verdict_key(c.verdict))).collect())
        })
        .collect();
    let rendered = matrix_from_dom(&dom);
    assert_eq!(rendered, expected);
    assert_eq!(rendered.iter().map(|(_, cells)| cells.len()).sum::<usize>(), json.summary.cells);

    let start = dom.find("<details id=\"cell-5-2\"").expect("the #83380 cell has details");
    let details = &dom[start..start + dom[start..].find("</details>").unwrap()];
    let tag = &details[..details.find('>').unwrap()];
    assert!(tag.contains("open=\"\""), "the page's script opens the cell the URL names: {tag}");
    assert_eq!(attribute(tag, "data-version"), Some("2026.5.16-beta.4"));
    assert!(details.contains("expected failure (openclaw/openclaw#83380 as reported"), "{details}");
    assert!(
        details.contains("<span class=\"del\">-POST https://chatgpt.com/backend-api/codex/responses</span>")
    );
    assert!(details.contains("<span class=\"add\">+POST https://api.openai.com/v1/responses</span>"));
    assert!(details.contains("data-invariant=\"bearer\""), "{details}");
    // The matrix links the cell to these details, and marks the first bad version.
    assert!(dom.contains("<a href=\"#cell-5-2\">"));
    assert!(dom.contains("<td class=\"first-bad-version\">2026.5.28</td>"));
    for external in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!dom.contains(external), "{external}");
    }
}

#[test]
fn hostile_names_stay_text_in_the_browser() {
    let cell = CellOutcome {
        dispatcher_log: vec!["OpenClaw logged <script>x</script>".into()],
        ..CellOutcome::new("1.0.0", "<b>c</b>.json", Verdict::Fail)
    };
    let report = Report::new(
        vec![ScenarioOutcome {
            name: "<img src=x onerror=\"document.title='owned'\">".into(),
            path: "s.json".into(),
            about: Some("\"><script>document.title='owned'</script>".into()),
            source: Some("</td><td>extra".into()),
            first_bad_version: None,
            cells: vec![cell],
        }],
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("hostile.html");
    std::fs::write(&page, report::render(&report, report::Format::Html, false)).unwrap();
    let Some(dom) = dump_dom(&url(&page, "")) else { return };
    assert!(dom.contains("<title>dispatch-vcr check: 1 scenarios, 1 cells</title>"), "no script ran");
    assert!(!dom.contains("<img") && !dom.contains("<b>c</b>"), "markup from the report became elements");
    assert!(
        dom.contains("<li>OpenClaw logged &lt;script&gt;x&lt;/script&gt;</li>"),
        "the dispatcher's log is shown as text"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=\"document.title='owned'\"&gt;"),
        "the name is shown as text"
    );
    assert_eq!(
        matrix_from_dom(&dom)[0].1,
        vec![("1.0.0".to_owned(), "fail".to_owned())],
        "one cell, no injected one"
    );
}

/// Width and height of a PNG (its IHDR chunk).
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_screenshot_in_docs_is_a_rendering_of_the_shipped_report() {
    let committed = root().join("docs/report.png");
    let dir = tempfile::tempdir().unwrap();
    let page = shipped_report(dir.path());
    // Shown with the first failing cell expanded, so its diff is in the picture.
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<details id=\"cell-2-1\""));
    std::fs::write(&page, html.replacen("<details id=\"cell-2-1\"", "<details open id=\"cell-2-1\"", 1))
        .unwrap();
    let shot = dir.path().join("report.png");
    let screenshot = format!("--screenshot={}", shot.display());
    if chromium(&[&screenshot, "--window-size=1280,1600", &url(&page, "")]).is_some() {
        let bytes = std::fs::read(&shot).unwrap();
        assert_eq!(png_size(&bytes), (1280, 1600));
        if std::env::var_os("UPDATE_DOCS").is_some() {
            update_committed(&committed, &bytes);
        }
    }
    assert_eq!(png_size(&std::fs::read(&committed).unwrap()), (1280, 1600), "docs/report.png");
}
