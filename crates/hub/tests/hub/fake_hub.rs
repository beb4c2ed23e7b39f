//! A small Hugging Face hub on loopback: `resolve` URLs on one port, an LFS
//! "CDN" on another (so the token must not follow the redirect), a request
//! log, and switchable faults (cut connections, corrupt bytes, no Range).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use sha2::{Digest, Sha256};

pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
pub const MODEL_LEN: usize = 20_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Hub,
    Cdn,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub server: Server,
    pub method: String,
    pub path: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

struct FakeFile {
    bytes: Vec<u8>,
    /// Served like git-lfs files: a redirect to the CDN, sha256 as etag.
    lfs: bool,
}

/// Switchable misbehaviour of GETs on the CDN (the LFS downloads).
#[derive(Default)]
pub struct Faults {
    /// Send only this many body bytes, then close the connection ...
    pub cut_after: usize,
    /// ... for this many more GETs.
    pub cuts_left: usize,
    /// Flip bytes in this many more GETs.
    pub corrupt_left: usize,
    /// Answer Range requests with 200 and the whole file.
    pub ignore_range: bool,
}

#[derive(Default)]
pub struct State {
    repos: HashMap<String, BTreeMap<String, FakeFile>>,
    aliases: HashMap<String, String>,
    pub requests: Vec<Request>,
    pub faults: Faults,
    /// When set, hub requests without `Authorization: Bearer {token}` get 401.
    pub required_token: Option<String>,
}

pub struct FakeHub {
    pub url: String,
    pub cdn_url: String,
    state: Arc<Mutex<State>>,
}

impl FakeHub {
    /// `openai-community/gpt2` (alias `gpt2`) without generation_config.json,
    /// `org/minimal` with only the two required files, `org/pt-only` with
    /// pytorch_model.bin instead of safetensors.
    pub fn start() -> FakeHub {
        let mut state = State::default();
        let gpt2 = [
            ("config.json", br#"{"n_layer": 2}"#.to_vec(), false),
            ("model.safetensors", model_bytes(), true),
            ("vocab.json", br#"{"a": 0}"#.to_vec(), false),
            ("merges.txt", b"#version: 0.2\n".to_vec(), false),
            ("tokenizer.json", br#"{"model": {}}"#.to_vec(), false),
        ];
        state.add_repo("openai-community/gpt2", &gpt2);
        state.add_repo("org/minimal", &gpt2[..2]);
        let pt = [gpt2[0].clone(), ("pytorch_model.bin", model_bytes(), true)];
        state.add_repo("org/pt-only", &pt);
        state
            .aliases
            .insert("gpt2".into(), "openai-community/gpt2".into());

        let state = Arc::new(Mutex::new(state));
        let (hub, hub_port) = listen();
        let (cdn, cdn_port) = listen();
        let cdn_url = format!("http://127.0.0.1:{cdn_port}");
        serve(hub, Server::Hub, state.clone(), cdn_url.clone());
        serve(cdn, Server::Cdn, state.clone(), cdn_url.clone());
        FakeHub {
            url: format!("http://127.0.0.1:{hub_port}"),
            cdn_url,
            state,
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake hub state")
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    pub fn gets(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .collect()
    }

    pub fn clear_log(&self) {
        self.state().requests.clear();
    }
}

impl State {
    fn add_repo(&mut self, id: &str, files: &[(&str, Vec<u8>, bool)]) {
        let files = files
            .iter()
            .map(|(name, bytes, lfs)| {
                let file = FakeFile {
                    bytes: bytes.clone(),
                    lfs: *lfs,
                };
                (name.to_string(), file)
            })
            .collect();
        self.repos.insert(id.to_string(), files);
    }
}

/// Deterministic bytes standing in for weights.
pub fn model_bytes() -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..MODEL_LEN)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the hub uses as the etag of a small (non-LFS) file: a git blob id.
pub fn git_etag(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..40].to_string()
}

fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    (listener, port)
}

fn serve(listener: TcpListener, server: Server, state: Arc<Mutex<State>>, cdn_url: String) {
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let state = state.clone();
            let cdn_url = cdn_url.clone();
            thread::spawn(move || handle(stream, server, &state, &cdn_url));
        }
    });
}

fn handle(mut stream: TcpStream, server: Server, state: &Mutex<State>, cdn_url: &str) {
    let Some(request) = read_request(&stream, server) else {
        return;
    };
    let mut state = state.lock().expect("fake hub state");
    state.requests.push(request.clone());
    let reply = match server {
        Server::Hub => hub_reply(&request, &state, cdn_url),
        Server::Cdn => cdn_reply(&request, &mut state),
    };
    drop(state);
    // The client may have hung up on purpose; nothing to do then.
    let _ = reply.send(&mut stream, request.method == "HEAD");
}

fn read_request(stream: &TcpStream, server: Server) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Request {
        server,
        method,
        path,
        headers,
    })
}

struct Reply {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Announce the full body but send only this many bytes.
    cut_after: Option<usize>,
}

impl Reply {
    fn new(status: &'static str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            cut_after: None,
        }
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    fn send(&self, stream: &mut TcpStream, head_only: bool) -> std::io::Result<()> {
        let mut out = format!("HTTP/1.1 {}\r\nConnection: close\r\n", self.status);
        for (name, value) in &self.headers {
            out += &format!("{name}: {value}\r\n");
        }
        out += &format!("Content-Length: {}\r\n\r\n", self.body.len());
        stream.write_all(out.as_bytes())?;
        if !head_only {
            let end = self
                .cut_after
                .unwrap_or(self.body.len())
                .min(self.body.len());
            stream.write_all(&self.body[..end])?;
        }
        stream.flush()
    }
}

fn hub_reply(request: &Request, state: &State, cdn_url: &str) -> Reply {
    if let Some(token) = &state.required_token {
        if request.header("authorization") != Some(&format!("Bearer {token}")) {
            return Reply::new("401 Unauthorized");
        }
    }
    let Some((repo, rest)) = request.path.trim_start_matches('/').split_once("/resolve/") else {
        return Reply::new("404 Not Found");
    };
    if let Some(target) = state.aliases.get(repo) {
        return Reply::new("307 Temporary Redirect")
            .header("Location", format!("/{target}/resolve/{rest}"));
    }
    let Some(files) = state.repos.get(repo) else {
        return Reply::new("401 Unauthorized").header("X-Error-Code", "RepoNotFound");
    };
    let (revision, name) = rest.split_once('/').unwrap_or((rest, ""));
    if revision != "main" && revision != COMMIT {
        return Reply::new("404 Not Found").header("X-Error-Code", "RevisionNotFound");
    }
    let Some(file) = files.get(name) else {
        return Reply::new("404 Not Found")
            .header("X-Error-Code", "EntryNotFound")
            .header("X-Repo-Commit", COMMIT);
    };
    let reply = if file.lfs {
        let sha = sha256_hex(&file.bytes);
        Reply::new("302 Found")
            .header("Location", format!("{cdn_url}/blobs/{sha}"))
            .header("ETag", "\"pointer-file-etag\"")
            .header("X-Linked-Etag", format!("\"{sha}\""))
            .header("X-Linked-Size", file.bytes.len().to_string())
    } else {
        // A weak etag on one file, to check it is normalised.
        let weak = if name == "config.json" { "W/" } else { "" };
        let mut reply =
            Reply::new("200 OK").header("ETag", format!("{weak}\"{}\"", git_etag(&file.bytes)));
        reply.body = file.bytes.clone();
        reply
    };
    reply.header("X-Repo-Commit", COMMIT)
}

fn cdn_reply(request: &Request, state: &mut State) -> Reply {
    let sha = request.path.trim_start_matches("/blobs/");
    let found = state.repos.values().flat_map(|files| files.values());
    let Some(mut bytes) = found
        .filter(|f| f.lfs)
        .map(|f| f.bytes.clone())
        .find(|b| sha256_hex(b) == sha)
    else {
        return Reply::new("404 Not Found");
    };
    if request.method != "GET" {
        return Reply::new("405 Method Not Allowed");
    }
    let faults = &mut state.faults;
    if faults.corrupt_left > 0 {
        faults.corrupt_left -= 1;
        bytes.iter_mut().step_by(97).for_each(|b| *b = !*b);
    }
    let mut reply = range_reply(request, bytes, faults.ignore_range);
    if faults.cuts_left > 0 {
        faults.cuts_left -= 1;
        reply.cut_after = Some(faults.cut_after);
    }
    reply
}

fn range_reply(request: &Request, bytes: Vec<u8>, ignore_range: bool) -> Reply {
    let from = request
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n < bytes.len() && !ignore_range);
    let mut reply = match from {
        Some(from) => Reply::new("206 Partial Content").header(
            "Content-Range",
            format!("bytes {from}-{}/{}", bytes.len() - 1, bytes.len()),
        ),
        None => Reply::new("200 OK"),
    };
    reply.body = bytes[from.unwrap_or(0)..].to_vec();
    reply
}
