//! The real server's sockets: idle and slow connections are closed, the cap on connections
//! never locks out `/api/health`, and an over-limit body is refused before it is sent.
//! Timeouts are set to 1 s here, so each test waits about that long, never guesses longer.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::binary::{get_health, serve, serve_by};

/// Long enough that only a failure waits it out.
const PATIENCE: Duration = Duration::from_secs(20);

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// Reads until the server closes the connection; panics if it is still open after PATIENCE.
fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    match stream.read_to_end(&mut got) {
        Ok(_) => String::from_utf8_lossy(&got).into_owned(),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => String::from_utf8_lossy(&got).into(),
        Err(e) => panic!("still open after {PATIENCE:?} ({e}); read {got:?}"),
    }
}

#[test]
fn connections_that_send_nothing_or_half_a_header_are_closed() {
    let (_server, address) = serve(&["--header-timeout-secs", "1"]);
    let started = Instant::now();
    let mut silent = connect(&address);
    let mut half = connect(&address);
    half.write_all(b"GET /api/health HTTP/1.1\r\nHost: loc")
        .expect("send");
    read_until_closed(&mut silent);
    read_until_closed(&mut half);
    assert!(started.elapsed() < PATIENCE);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_its_answer() {
    let (_server, address) = serve(&["--header-timeout-secs", "1"]);
    let mut stream = connect(&address);
    let request = "GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n";
    stream.write_all(request.as_bytes()).expect("send");
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn a_body_shorter_than_its_length_gets_408() {
    let (_server, address) = serve(&["--body-timeout-secs", "1"]);
    let mut stream = connect(&address);
    let request = "POST /api/tokenize HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
                   application/json\r\nContent-Length: 40\r\n\r\n{\"text\":";
    stream.write_all(request.as_bytes()).expect("send");
    let answer = read_until_closed(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""code":"body_timeout""#), "{answer}");
}

/// Answered from the headers alone: the client never sends the body it announced.
#[test]
fn an_over_limit_length_or_expect_continue_gets_413_at_once() {
    let (_server, address) = serve(&["--max-body-bytes", "1000"]);
    for expect in ["", "Expect: 100-continue\r\n"] {
        let mut stream = connect(&address);
        let request = format!(
            "POST /api/tokenize HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: 1000000\r\n{expect}\r\n"
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut head = [0; 12];
        stream
            .read_exact(&mut head)
            .expect("an answer before the body");
        assert_eq!(&head, b"HTTP/1.1 413", "{expect}");
    }
}

/// 64 open files allowed and 80 idle connections held: each new connection takes the place
/// of the oldest idle one, so health still answers. Before, accept failed (EMFILE) for as
/// long as the sockets were held.
#[test]
fn health_answers_while_idle_sockets_fill_the_file_limit() {
    let mut limited = Command::new("bash");
    limited.args([
        "-c",
        r#"ulimit -n 64 && exec "$0" "$@""#,
        env!("CARGO_BIN_EXE_nexttoken"),
    ]);
    let (_server, address) = serve_by(limited, &["--header-timeout-secs", "600"]);
    let held: Vec<TcpStream> = (0..80).map(|_| connect(&address)).collect();
    let health = get_health(&address);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    drop(held);
}

/// When every connection under the cap is running a request, a newcomer is told so at once.
#[test]
fn at_the_cap_with_every_connection_busy_a_newcomer_gets_503() {
    let (_server, address) = serve(&["--max-connections", "2", "--body-timeout-secs", "600"]);
    // Each is inside a request, reading a body that never comes: the 100 Continue says the
    // handler has started.
    let busy: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = connect(&address);
            let request = "POST /api/tokenize HTTP/1.1\r\nHost: localhost\r\nContent-Type: \
                           application/json\r\nContent-Length: 40\r\nExpect: 100-continue\r\n\r\n";
            stream.write_all(request.as_bytes()).expect("send");
            let mut head = [0; 12];
            stream.read_exact(&mut head).expect("100 Continue");
            assert_eq!(&head, b"HTTP/1.1 100");
            stream
        })
        .collect();
    let answer = read_until_closed(&mut connect(&address));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains(r#""code":"busy""#), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    drop(busy);
}
