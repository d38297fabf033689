//! report.html in a real browser: headless Chromium renders it, takes a
//! screenshot, and the page must be neither empty nor broken.
//!
//! `.ci/run` installs Debian's `chromium`; under CI a missing browser is a
//! failure, elsewhere the test says it was skipped.

mod common;

use std::path::Path;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Share of pixels that are not (near) white, and the number of distinct colours.
fn ink(png_path: &Path) -> (f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let mut inked = 0usize;
    let mut colours = std::collections::HashSet::new();
    let total = pixels.len() / channels;
    for px in pixels.chunks(channels) {
        if px[..3.min(channels)].iter().any(|&c| c < 235) {
            inked += 1;
        }
        colours.insert(px[..3.min(channels)].to_vec());
    }
    (inked as f64 / total as f64, colours.len())
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (.ci/run does)"
        );
        eprintln!("skipped: no chromium on this machine (CI installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let scenario = common::bundled("hameenlinna-icehearts.toml");
    let out = common::run_in(
        d,
        &[
            "run",
            scenario.to_str().expect("utf-8"),
            "--replications",
            "500",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let page = d.join("out/hameenlinna-icehearts/report.html");
    let html = std::fs::read_to_string(&page).expect("report.html");
    for fetch in ["src=", "<link", "<script", "@import", "url("] {
        assert!(
            !html.contains(fetch),
            "the report must be self-contained, found `{fetch}`"
        );
    }
    let shot = d.join("shot.png");
    let profile = d.join("profile");
    let status = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1000,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(
        status.status.success() && shot.exists(),
        "chromium failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let (share, colours) = ink(&shot);
    // A blank or error page is almost all white with few colours; the
    // report has tables, text and four filled charts.
    assert!(share > 0.03, "only {:.2} % of the page is drawn", share * 100.0);
    assert!(colours > 20, "only {colours} colours: the charts did not render");
    // The DOM as the browser parsed it still has the headline table and the pictures.
    let dom = dump_dom(browser, &page, &d.join("profile2"));
    assert!(
        dom.contains("id=\"headline\"") && dom.contains("investor.irr"),
        "headline table missing"
    );
    assert!(dom.matches("<svg").count() >= 4, "pictures missing");
    // Keep a copy for the README when asked.
    if let Some(target) = std::env::var_os("SIBSIM_SCREENSHOT") {
        std::fs::copy(&shot, target).expect("copy screenshot");
    }
}

/// The page as the browser parsed it.
fn dump_dom(browser: &str, page: &Path, profile: &Path) -> String {
    let dom = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

/// The text of the element with `id` (tags dropped), up to its `</table>`.
fn table_text(dom: &str, id: &str) -> String {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let end = dom[start..].find("</table>").map_or(dom.len(), |e| start + e);
    let mut text = String::new();
    let mut inside = false;
    for c in dom[start..end].chars() {
        match c {
            '<' => inside = true,
            '>' => {
                inside = false;
                text.push(' ');
            }
            c if !inside => text.push(c),
            _ => {}
        }
    }
    text
}

#[test]
fn the_report_reads_in_units_in_the_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (.ci/run does)"
        );
        eprintln!("skipped: no chromium on this machine (CI installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for file in ["nyc-able.toml", "lapset-sib.toml"] {
        let scenario = common::bundled(file);
        let args = [
            "run",
            scenario.to_str().unwrap(),
            "--replications",
            "200",
            "--quiet",
            "--out",
            "out",
        ];
        let out = common::run_in(d, &args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // nyc-able counts in US dollars: its headline shows $ and IRR in %.
    let dom = dump_dom(browser, &d.join("out/nyc-able/report.html"), &d.join("p1"));
    let headline = table_text(&dom, "headline");
    assert!(headline.contains('$') && !headline.contains('€'), "{headline}");
    let irr_row = headline.lines().find(|l| l.contains("IRR")).unwrap_or(&headline);
    assert!(irr_row.contains('%'), "{irr_row}");
    assert!(dom.contains("money in USD"), "the currency is not named");
    for id in ["headline", "probabilities", "shortfall"] {
        assert!(!table_text(&dom, id).contains("0.0000"), "#{id} shows 0.0000");
    }
    assert!(dom.contains("id=\"finding\""), "no opening sentence");
    // The Lapset portfolio: a per-contract table with one row per contract.
    let dom = dump_dom(browser, &d.join("out/lapset-sib/report.html"), &d.join("p2"));
    let contracts = table_text(&dom, "contracts");
    for name in [
        "hameenlinna-icehearts",
        "vantaa-perhekumppani",
        "helsinki",
        "lohja",
        "jyvaskyla",
        "tampere",
        "ptky-karviainen",
    ] {
        assert_eq!(contracts.matches(name).count(), 1, "{name} in {contracts}");
    }
    assert!(contracts.contains('€') && contracts.contains('%'), "{contracts}");
    assert!(dom.contains("id=\"correlation\""), "no payment correlation");
}
