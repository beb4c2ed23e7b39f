//! Requests as a method, a path and a JSON body, for a transport without a router of its own
//! (the browser engine): the routes, body parsing and error shapes of the HTTP server, so a
//! page cannot tell the two apart.

use nexttoken_model::Stop;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::error::Category;

use crate::{endpoints as e, Engine, Error};

/// An answer: its HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Answers `method path` with `body` on `engine`, whose model came from `source`.
pub fn handle(engine: &Engine, source: &str, method: &str, path: &str, body: &[u8]) -> Answer {
    let answer = match (method, path) {
        ("GET", "/api/health") => json(&e::info::health(engine)),
        ("GET", "/api/model") => json(&e::info::model(engine, source)),
        ("POST", "/api/tokenize") => run(engine, body, e::tokenize::tokenize),
        ("POST", "/api/chat") => run(engine, body, e::chat::chat),
        ("POST", "/api/trace") => run(engine, body, |en, req| {
            e::trace::trace(en, req, Stop::default())
        }),
        ("POST", "/api/step") => run(engine, body, e::step::step),
        ("POST", "/api/distribution") => run(engine, body, |en, req| {
            e::distribution::distribution(en, req, Stop::default())
        }),
        ("POST", "/api/bpe") => run(engine, body, e::bpe::bpe),
        ("POST", "/api/vocab/lookup") => run(engine, body, e::vocab::lookup),
        ("POST", "/api/compare") => run(engine, body, |en, req| {
            e::compare::compare(en, req, Stop::default())
        }),
        ("POST", "/api/attention") => run(engine, body, e::attention::attention),
        ("POST", "/api/attention/overview") => run(engine, body, e::attention::overview),
        ("POST", "/api/heads") => run(engine, body, e::heads::heads),
        ("POST", "/api/lens") => run(engine, body, e::lens::lens),
        ("POST", "/api/pair") => run(engine, body, e::pair::pair),
        ("POST", "/api/patch") => run(engine, body, e::patch::patch),
        ("POST", "/api/surprisal") => run(engine, body, e::surprisal::surprisal),
        ("GET", _) if vocab_id(path).is_some() => {
            e::vocab::entry(engine, vocab_id(path).unwrap_or_default()).and_then(|v| json(&v))
        }
        _ if known(path) => Err(Error::new(
            405,
            "method_not_allowed",
            format!("{path} does not accept this method"),
        )),
        _ => Err(Error::not_found(format!("no route {path}"))),
    };
    match answer {
        Ok(body) => Answer { status: 200, body },
        Err(error) => Answer {
            status: error.status,
            body: error.to_json().to_string(),
        },
    }
}

/// The id of `/api/vocab/{id}`.
fn vocab_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/vocab/")
        .filter(|id| !id.is_empty() && !id.contains('/') && *id != "lookup")
}

fn known(path: &str) -> bool {
    const ROUTES: [&str; 18] = [
        "/api/health",
        "/api/model",
        "/api/model/switch",
        "/api/tokenize",
        "/api/chat",
        "/api/trace",
        "/api/step",
        "/api/distribution",
        "/api/bpe",
        "/api/vocab/lookup",
        "/api/compare",
        "/api/attention",
        "/api/attention/overview",
        "/api/heads",
        "/api/lens",
        "/api/pair",
        "/api/patch",
        "/api/surprisal",
    ];
    ROUTES.contains(&path) || vocab_id(path).is_some()
}

/// Parses `body` as the endpoint's request (within the body bound), then runs it.
fn run<Q: DeserializeOwned, A: Serialize>(
    engine: &Engine,
    body: &[u8],
    endpoint: impl FnOnce(&Engine, Q) -> Result<A, Error>,
) -> Result<String, Error> {
    let max = engine.bounds.max_body_bytes;
    if body.len() > max {
        return Err(Error::body_too_large(max));
    }
    json(&endpoint(engine, parse(body)?)?)
}

/// The server's JSON extractor's reading of a body, messages included.
fn parse<Q: DeserializeOwned>(body: &[u8]) -> Result<Q, Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let data = e.inner().classify() == Category::Data;
        match data {
            true => Error::bad(
                "bad_request",
                format!("the body does not match this endpoint: {e}"),
            ),
            false => syntax(e),
        }
    })?;
    de.end().map_err(syntax)?;
    Ok(value)
}

fn syntax(e: impl std::fmt::Display) -> Error {
    Error::bad("bad_request", format!("the body is not valid JSON: {e}"))
}

fn json(value: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))
}
