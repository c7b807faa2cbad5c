//! The web app's view, in a real browser: headless Chromium (Debian's `chromium`) loads a
//! page from the allowed origin `http://localhost:5173` (the web app's dev server, allowed
//! by the default configuration) that registers, logs in and reads `/auth/me` with `fetch`
//! — it works; the same page from another origin is stopped by CORS; and `/docs` renders
//! its operations with every host but the server's unreachable (the UI is served
//! offline). Skipped with a notice where Chromium is not installed, except under CI
//! (`CI` set), where its absence fails the test.

use crate::binary::{ayubi, start};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

/// The web app's stand-in: it reports what happened in `#out`, which `--dump-dom` prints.
const PAGE: &str = r#"<!doctype html><html><body><div id="out">pending</div><script>
const api = new URLSearchParams(location.search).get('api');
(async () => {
  const out = document.getElementById('out');
  try {
    const email = 'browser' + Math.floor(Math.random() * 1e9) + '@example.com';
    const body = JSON.stringify({email, password: 'correct horse battery staple'});
    const json = {method: 'POST', headers: {'Content-Type': 'application/json'}, body};
    let r = await fetch(api + '/api/v1/auth/register', json);
    if (r.status !== 201) throw new Error('register ' + r.status);
    r = await fetch(api + '/api/v1/auth/login', json);
    const token = (await r.json()).access_token;
    r = await fetch(api + '/api/v1/auth/me', {headers: {Authorization: 'Bearer ' + token}});
    out.textContent = 'read ' + r.status + ' ' + (await r.json()).email;
  } catch (e) {
    out.textContent = 'blocked ' + e.name;
  }
})();
</script></body></html>"#;

/// Serves [`PAGE`] for any path on `port` (0: a port of its own); returns the port, or
/// `None` when `port` is taken.
fn page_server(port: u16) -> Option<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port)).ok()?;
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{PAGE}",
                    PAGE.len()
                )
                .as_bytes(),
            );
        }
    });
    Some(port)
}

fn chromium() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("AYUBI_CHROMIUM")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.exists())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required under CI (apt-get install chromium)"
        );
        eprintln!("browser tests skipped: no Chromium (apt-get install chromium)");
    }
    found
}

/// The page's DOM once its scripts are done, with every host but the loopback ones
/// unresolvable (so nothing can come from the network).
fn dump_dom(browser: &std::path::Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn outcome(dom: &str) -> &str {
    dom.split(r#"<div id="out">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or(dom)
}

#[test]
fn a_browser_page_from_an_allowed_origin_reads_data_and_others_are_blocked() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ayubi(dir.path());
    // The web app's dev server origin, which the default configuration allows; where
    // something (a running Vite) holds 5173, a port of our own, allowed explicitly.
    let allowed = page_server(5173).unwrap_or_else(|| {
        eprintln!("port 5173 is taken: the allowed page is served from another port");
        let port = page_server(0).unwrap();
        cmd.env("CORS_ORIGINS", format!("http://localhost:{port}"));
        port
    });
    let other = page_server(0).unwrap();
    let (mut server, port) = start(cmd);
    let api = format!("http://127.0.0.1:{port}");

    let dom = dump_dom(&browser, &format!("http://localhost:{allowed}/?api={api}"));
    let got = outcome(&dom);
    assert!(
        got.starts_with("read 200 browser") && got.ends_with("@example.com"),
        "{got}"
    );
    let dom = dump_dom(&browser, &format!("http://localhost:{other}/?api={api}"));
    assert_eq!(
        outcome(&dom),
        "blocked TypeError",
        "CORS let another origin in"
    );

    // The documentation UI, with no network but the server.
    let docs = dump_dom(&browser, &format!("{api}/docs/"));
    assert!(docs.contains("swagger-ui"), "{docs}");
    assert!(
        docs.contains(r#"data-path="/api/v1/auth/login""#),
        "the operations were rendered from /openapi.json"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
