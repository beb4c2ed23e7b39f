//! The first run with no model named: the bundled model serves at once (offline, or while the
//! hub is silent), and GPT-2 arrives in the background from a (fake, loopback) hub, then the
//! page can switch.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// The server on a free port; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(cache: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexttoken"));
    cmd.args(["--port", "0"])
        .env("HF_HUB_CACHE", cache)
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_ENDPOINT");
    cmd.envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // The first line says where it listens: "... at http://127.0.0.1:PORT/ ...".
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let start = line.find("http://").expect("the URL is printed");
    let url = line[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    Server { child, url }
}

fn get(url: &str) -> Value {
    ureq::get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

fn post(url: &str, body: Value) -> (u16, Value) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut reply = agent.post(url).send_json(body).unwrap();
    (
        reply.status().as_u16(),
        reply.body_mut().read_json().unwrap(),
    )
}

fn trace(server: &Server) -> Value {
    let (status, body) = post(
        &format!("{}/api/trace", server.url),
        json!({"prompt": "the United", "steps": 2}),
    );
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn offline_with_an_empty_cache_serves_the_bundled_model() {
    let cache = tempfile::tempdir().unwrap();
    let server = start_server(cache.path(), &[("HF_HUB_OFFLINE", "1")]);
    assert_eq!(get(&format!("{}/api/health", server.url))["status"], "ok");
    let model = get(&format!("{}/api/model", server.url));
    assert_eq!(
        (model["name"].as_str(), model["source"].as_str()),
        (Some("sotu-tiny"), Some("bundled"))
    );
    assert_eq!(model["download"]["state"], "offline");
    assert!(model["download"]["message"]
        .as_str()
        .unwrap()
        .contains("HF_HUB_OFFLINE"));
    let t = trace(&server);
    assert_eq!(t["model"]["name"], "sotu-tiny");
    assert_eq!(t["steps"].as_array().unwrap().len(), 2);
    let (status, body) = post(&format!("{}/api/model/switch", server.url), json!({}));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_ready"))
    );
}

#[test]
fn gpt2_downloads_in_the_background_and_the_page_can_switch() {
    let hub = FakeHub::serve(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/tiny-gpt2"
    )));
    let cache = tempfile::tempdir().unwrap();
    let server = start_server(cache.path(), &[("HF_ENDPOINT", &hub)]);
    assert_eq!(
        trace(&server)["model"]["name"],
        "sotu-tiny",
        "the bundled model serves meanwhile"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let model = loop {
        let model = get(&format!("{}/api/model", server.url));
        if model["download"]["state"] != "downloading" || Instant::now() > deadline {
            break model;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(model["download"]["state"], "ready", "{model}");
    let (status, body) = post(&format!("{}/api/model/switch", server.url), json!({}));
    assert_eq!(status, 200, "{body}");
    let model = get(&format!("{}/api/model", server.url));
    assert_eq!(
        (
            model["name"].as_str(),
            model["source"].as_str(),
            model["n_layer"].as_u64()
        ),
        (Some("gpt2"), Some("hub"), Some(2))
    );
    assert_eq!(trace(&server)["model"]["name"], "gpt2");
    let snapshot: PathBuf = cache
        .path()
        .join(format!("models--gpt2/snapshots/{COMMIT}/model.safetensors"));
    assert!(
        snapshot.exists(),
        "the download is in the shared Hugging Face cache"
    );
}

/// "At once" without a stopwatch: a hub that accepts and never answers holds the download
/// forever, so a server that waited for it before serving would never answer here.
#[test]
fn a_hub_that_never_answers_does_not_hold_back_the_bundled_model() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let hub = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = silent.incoming().flatten().collect(); // never answered
        drop(held);
    });
    let cache = tempfile::tempdir().unwrap();
    let server = start_server(cache.path(), &[("HF_ENDPOINT", &hub)]);
    let model = get(&format!("{}/api/model", server.url));
    assert_eq!(
        (model["name"].as_str(), model["download"]["state"].as_str()),
        (Some("sotu-tiny"), Some("downloading")),
        "{model}"
    );
    assert_eq!(trace(&server)["steps"].as_array().unwrap().len(), 2);
}

/// Serves a model directory as the hub repo `gpt2` on loopback, the way the real hub answers
/// HEAD and GET on `/{repo}/resolve/{revision}/{file}`; absent files are 404.
struct FakeHub;

impl FakeHub {
    fn serve(dir: &Path) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let dir = dir.clone();
                std::thread::spawn(move || answer(stream, &dir));
            }
        });
        url
    }
}

fn answer(mut stream: TcpStream, dir: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    reader.read_line(&mut request).unwrap();
    let mut header = String::new();
    while reader.read_line(&mut header).unwrap_or(0) > 2 {
        header.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // After the first file the client asks at the commit it was told: any revision serves.
    let file = path
        .strip_prefix("/gpt2/resolve/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, f)| dir.join(f));
    let Some(bytes) = file.and_then(|f| std::fs::read(f).ok()) else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let etag: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"{etag}\"\r\nX-Repo-Commit: {COMMIT}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    let _ = stream.write_all(head.as_bytes());
    if method == "GET" {
        let _ = stream.write_all(&bytes);
    }
    let _ = stream.read(&mut [0; 1]);
}
