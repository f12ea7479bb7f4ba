//! The HTTP server end to end: the real binary on an ephemeral port, a real
//! HTTP client, every endpoint, every parameter and every error status; plus
//! the embedding example, compiled and run.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::contract::*;
use crate::util::{extraction, index_of_another_version, Fixture};

/// A running `claimsearch serve`, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(fx: &Fixture) -> Server {
        Server::start_with(fx, &[])
    }

    /// A server started with `options` added to its command line.
    pub(crate) fn start_with(fx: &Fixture, options: &[&str]) -> Server {
        let index = fx.index();
        let mut args = vec![
            "serve",
            "--index",
            index.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(options);
        let mut child = fx
            .command(&args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start claimsearch serve");
        // One thread reads stderr to the end, so request logs never block the
        // server, and hands over the address from the "listening" line.
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let (address, listening) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("claimsearch: listening on ") {
                    let _ = address.send(url.trim().to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = listening
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("serve did not listen: {}", log.lock().unwrap()));
        Server { child, base, log }
    }

    /// GET `path` with `params` (repeatable), returning the status and body.
    pub(crate) fn get(&self, path: &str, params: &[(&str, &str)]) -> (u16, String) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        self.get_raw(&format!("{path}?{query}"))
    }

    pub(crate) fn get_raw(&self, path_and_query: &str) -> (u16, String) {
        let mut response = agent()
            .get(&format!("{}{path_and_query}", self.base))
            .call()
            .unwrap_or_else(|e| panic!("GET {path_and_query}: {e}"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap();
        (status, body)
    }

    /// GET /search, asserting 200, deserialized strictly.
    fn search(&self, params: &[(&str, &str)]) -> Response {
        let (status, body) = self.get("/search", params);
        assert_eq!(status, 200, "{params:?}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("bad JSON ({e}): {body}"))
    }

    /// GET /search, asserting `status` and a `{"error": "..."}` body; returns the message.
    fn error(&self, status: u16, params: &[(&str, &str)]) -> String {
        let (got, body) = self.get("/search", params);
        assert_eq!(got, status, "{params:?}: {body}");
        error_message(&body)
    }

    /// Polls `check` for up to ten seconds.
    fn eventually(&self, what: &str, mut check: impl FnMut(&Server) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(self) {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// The body must be exactly `{"error": "<non-empty>"}`.
fn error_message(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let object = value.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{body}");
    let message = object["error"].as_str().expect("a string").to_string();
    assert!(!message.is_empty());
    message
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn corpus() -> Fixture {
    let fx = Fixture::new();
    fx.write(
        "items/2019/uniform.txt",
        extraction(
            "Uniform bounds revisited",
            "Alignment Forum · Ada Lovelace · 2019-03-01",
            "uniform-convergence, generalization-bounds",
            &[
                "Uniform convergence bounds cannot explain why overparameterized networks generalize.",
                "Interpolating classifiers can still generalize on noisy data.",
            ],
            &["Two-sided bounds were never going to survive the random label test."],
        ),
    );
    fx.write(
        "items/2022/pac.txt",
        extraction(
            "Tight bounds at last",
            "LessWrong · B. Riemann · 2022-06-10",
            "pac-bayes, compression",
            &[
                "PAC-Bayes compression bounds can be made non-vacuous for large networks.",
                "Uniform priors make the bound loose.",
            ],
            &["Compression is the whole trick."],
        ),
    );
    fx.write(
        "feeds/items.jsonl",
        concat!(
            r#"{"id": "tim-1", "title": "Scaling notes", "source": "arXiv", "author": "C. Gauss", "date": "2024-05-05", "topics": ["scaling-laws"], "claims": ["Uniform convergence fails for scaling laws as well.", "Loss falls as a power law in compute.", "Data and parameters should grow together.", "Emergent abilities may be a metric artefact."], "quotes": ["Bounds scale badly."], "threads": ["Is Theory Broken"]}"#,
            "\n",
            r#"{"id": "tim-2", "title": "Grokking diary", "source": "Substack", "date": "2023-02-02", "topics": ["grokking"], "claims": ["Grokking appears long after the training loss flattens."]}"#,
            "\n"
        ),
    );
    fx.write(
        "threads/is-theory-broken/v1.txt",
        "Is Theory Broken · history\nVersion 1\n2026-05-01 09:00 UTC · 3 items\nTimeline\n- 2019-01-01: A workshop paper finds uniform convergence insufficient. [1]\nSources\n- [1] Uniform bounds revisited — Alignment Forum (2019-03-01)\n",
    );
    fx.write(
        "threads/is-theory-broken/v2.txt",
        "Is Theory Broken · history\nVersion 2\n2026-05-09 18:30 UTC · 7 items\nTimeline\n- 2019-01-01: A workshop paper finds uniform convergence insufficient. [1]\nSources\n- [1] Uniform bounds revisited — Alignment Forum (2019-03-01)\n",
    );
    fx
}

fn indexed_server() -> (Fixture, Server) {
    let fx = corpus();
    fx.ok(&["index"]);
    let server = Server::start(&fx);
    (fx, server)
}

#[test]
fn serve_answers_503_until_an_index_appears_then_200_without_restart() {
    let fx = corpus();
    let mut server = Server::start(&fx);
    let (status, body) = server.get_raw("/health");
    assert_eq!(status, 200);
    assert_eq!(
        json(&body),
        serde_json::json!({"status": "ok", "index": false})
    );
    let missing = server.error(503, &[("q", "uniform")]);
    assert!(missing.starts_with("no index at"), "{missing}");
    let (status, body) = server.get_raw("/stats");
    assert_eq!(status, 503);
    assert!(error_message(&body).starts_with("no index at"));
    // bad input is still 400, index or not
    server.error(400, &[("q", "x"), ("limit", "0")]);

    fx.ok(&["index"]);
    assert_eq!(server.search(&[("q", "grokking")]).total, 1);
    let (status, body) = server.get_raw("/health");
    assert_eq!(status, 200);
    assert_eq!(
        json(&body),
        serde_json::json!({"status": "ok", "index": true})
    );
    assert!(server.child.try_wait().unwrap().is_none(), "still running");
}

#[test]
fn serve_search_returns_the_cli_json_contract() {
    let (fx, server) = indexed_server();
    let params = [("q", "uniform convergence"), ("limit", "50")];
    let (status, body) = server.get("/search", &params);
    assert_eq!(status, 200);
    let strict: Response = serde_json::from_str(&body).unwrap();
    assert_eq!(strict.query, "uniform convergence");
    assert!(strict.total >= 4, "{strict:?}");
    let cli = fx.ok(&["query", "--json", "--limit", "50", "uniform convergence"]);
    assert_eq!(json(&body), json(&cli.stdout), "same request, same answer");
    // the default limit is 10
    let all = server.search(&[("q", "*")]);
    assert!(all.total > 10);
    assert_eq!(all.hits.len(), 10);
}

#[test]
fn serve_verified_keeps_only_quotes_found_in_raw_text() {
    let fx = Fixture::new();
    fx.write(
        "items/tides.txt",
        extraction(
            "Tide tables",
            "Harbour Notes · Ana Ruiz · 2023-03-03",
            "tides",
            &["Tides follow the moon."],
            &[
                "The harbour empties twice a day, whatever the weather does.",
                "Nobody ever wrote this sentence down.",
            ],
        ),
    );
    fx.write(
        "raw/harbour.txt",
        "Harbour diary\n\nAs the keeper says, “the harbour empties twice a day,\nwhatever the weather does.”\n",
    );
    fx.ok(&["index"]);
    let server = Server::start(&fx);
    let (status, body) = server.get("/search", &[("q", "*"), ("kind", "quote")]);
    assert_eq!(status, 200);
    crate::contract::assert_found_in_shape(&body);
    assert_eq!(server.search(&[("q", "*"), ("kind", "quote")]).total, 2);
    let verified = server.search(&[("q", "*"), ("verified", "true")]);
    assert_eq!(verified.total, 1);
    let found_in = verified.hits[0].found_in.clone().unwrap();
    assert_eq!(found_in[0].path, "raw/harbour.txt");
    assert_eq!(found_in[0].title, "Harbour diary");
    assert_eq!(server.search(&[("q", "*"), ("verified", "0")]).total, 5);
    let bad = server.error(400, &[("q", "*"), ("verified", "maybe")]);
    assert!(bad.contains("verified"), "{bad}");
}

#[test]
fn serve_search_applies_every_parameter() {
    let (_fx, server) = indexed_server();
    let all = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![("q", "*"), ("limit", "100")];
        params.extend_from_slice(extra);
        server.search(&params)
    };

    let two = all(&[("source", "lesswrong"), ("source", "ARXIV")]);
    let sources: std::collections::BTreeSet<_> = two
        .hits
        .iter()
        .filter_map(|h| h.source.as_deref())
        .collect();
    assert_eq!(
        sources.into_iter().collect::<Vec<_>>(),
        ["LessWrong", "arXiv"]
    );
    assert_eq!(two.total, two.hits.len());

    let topics = all(&[("topic", "pac-bayes"), ("topic", "grokking")]);
    assert!(!topics.hits.is_empty());
    assert!(topics
        .hits
        .iter()
        .all(|h| h.topics.iter().any(|t| t == "pac-bayes" || t == "grokking")));
    assert!(topics
        .hits
        .iter()
        .any(|h| h.topics.contains(&"grokking".into())));

    let kinds = all(&[("kind", "quote"), ("kind", "event")]);
    assert!(kinds
        .hits
        .iter()
        .all(|h| h.kind == "quote" || h.kind == "event"));
    assert!(kinds.hits.iter().any(|h| h.kind == "event"));
    assert_eq!(kinds.total, 4, "3 quotes and the newest version's event");

    let by = all(&[("author", "ada lovelace")]);
    assert_eq!(by.total, 3);
    assert!(by
        .hits
        .iter()
        .all(|h| h.author.as_deref() == Some("Ada Lovelace")));

    let thread = all(&[("thread", "is theory broken")]);
    assert!(thread
        .hits
        .iter()
        .any(|h| h.item_id.as_deref() == Some("tim-1")));
    assert!(thread
        .hits
        .iter()
        .all(|h| h.thread.as_deref() == Some("Is Theory Broken")));

    let window = all(&[("since", "2022-01-01"), ("until", "2023-12-31")]);
    assert!(!window.hits.is_empty());
    assert!(window.hits.iter().all(|h| h
        .date
        .as_deref()
        .is_some_and(|d| ("2022-01-01"..="2023-12-31").contains(&d))));

    let first = server.search(&[("q", "*"), ("limit", "2")]);
    let next = server.search(&[("q", "*"), ("limit", "2"), ("offset", "2")]);
    assert_eq!((first.hits.len(), next.hits.len()), (2, 2));
    assert_eq!(first.total, next.total);
    let ids: Vec<_> = first.hits.iter().chain(&next.hits).map(|h| &h.id).collect();
    let everything = all(&[]);
    let expected: Vec<_> = everything.hits[..4].iter().map(|h| &h.id).collect();
    assert_eq!(ids, expected, "offset pages through the same ranking");

    let months = all(&[("date_bucket", "month")]);
    assert!(months
        .facets
        .date
        .iter()
        .any(|f| f.value.as_deref() == Some("2019-03")));
    let days = all(&[("date_bucket", "day")]);
    assert!(days
        .facets
        .date
        .iter()
        .any(|f| f.value.as_deref() == Some("2022-06-10")));
    assert!(everything
        .facets
        .date
        .iter()
        .all(|f| f.value.as_ref().is_none_or(|v| v.len() == 4)));

    let newest = all(&[("kind", "event")]);
    assert_eq!(newest.total, 1);
    for yes in ["true", "1"] {
        let versions = all(&[("kind", "event"), ("all_versions", yes)]);
        let mut seen: Vec<_> = versions.hits.iter().map(|h| h.version).collect();
        seen.sort();
        assert_eq!(seen, [Some(1), Some(2)]);
    }
    for no in ["false", "0"] {
        assert_eq!(all(&[("kind", "event"), ("all_versions", no)]).total, 1);
    }

    let phrase = server.search(&[("q", "\"uniform convergence\" -scaling")]);
    assert!(!phrase.hits.is_empty());
    assert!(phrase.hits.iter().all(|h| !h.text.contains("scaling")));
}

#[test]
fn serve_bad_input_is_400_json_and_unknown_paths_404() {
    let (_fx, server) = indexed_server();
    let long = "a".repeat(2001);
    for (params, says) in [
        (vec![("q", "kind:bogus")], "bad query"),
        (vec![("q", "x"), ("since", "2020-13-01")], "since"),
        (vec![("q", "x"), ("until", "yesterday")], "until"),
        (vec![("q", "x"), ("limit", "0")], "limit"),
        (vec![("q", "x"), ("limit", "101")], "limit"),
        (vec![("q", "x"), ("limit", "many")], "limit"),
        (vec![("q", "x"), ("offset", "-1")], "offset"),
        (vec![("q", "x"), ("colour", "red")], "unknown parameter"),
        (vec![("source", "arXiv")], "'q' is required"),
        (vec![("q", long.as_str())], "longer than"),
        (vec![("q", "")], "empty"),
        (vec![("q", "x"), ("kind", "claims")], "kind"),
        (vec![("q", "x"), ("date_bucket", "week")], "date bucket"),
        (vec![("q", "x"), ("all_versions", "maybe")], "all_versions"),
        (vec![("q", "x"), ("q", "y")], "more than once"),
        (
            vec![("q", "x"), ("since", "2021-01-01"), ("until", "2020-01-01")],
            "after",
        ),
    ] {
        let message = server.error(400, &params);
        assert!(message.contains(says), "{params:?}: {message}");
    }

    for path in [
        "/nope",
        "/search/more",
        "/item/more",
        "/app.js/x",
        "/index.html",
    ] {
        let (status, body) = server.get_raw(path);
        assert_eq!(status, 404, "{path}");
        assert!(error_message(&body).contains("not found"));
    }
    let mut post = agent()
        .post(&format!("{}/search?q=x", server.base))
        .send("")
        .unwrap();
    assert_eq!(post.status().as_u16(), 405);
    error_message(&post.body_mut().read_to_string().unwrap());
    let mut big = agent()
        .post(&format!("{}/search?q=x", server.base))
        .send("x".repeat(10_000).as_str())
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);
    error_message(&big.body_mut().read_to_string().unwrap());

    // nothing above took the server down
    assert_eq!(server.search(&[("q", "grokking")]).total, 1);
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

/// Sends `bytes` on a fresh connection and reads until the server closes it.
fn raw_exchange(server: &Server, bytes: &[u8]) -> String {
    use std::io::Write;
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    String::from_utf8(answer).unwrap()
}

/// The status, the `content-type` and the body of one raw answer.
fn raw_answer(answer: &str) -> (u16, String, String) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let status = head[9..12].parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type: "))
        .unwrap_or_default()
        .to_string();
    (status, content_type, body.to_string())
}

#[test]
fn serve_answers_requests_that_are_not_http_with_json_errors() {
    let (_fx, server) = indexed_server();
    let many_fields: String = (0..200).map(|i| format!("x-field-{i}: {i}\r\n")).collect();
    let too_large = format!("GET /health HTTP/1.1\r\nhost: x\r\n{many_fields}\r\n");
    for (bytes, status) in [
        (&b"garbage\r\n\r\n"[..], 400),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 400), // a TLS hello
        (
            b"GET /health HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n",
            400,
        ),
        (b"GET /health HTTP/9.9\r\n\r\n", 400),
        (b"GET /he alth HTTP/1.1\r\n\r\n", 400),
        (too_large.as_bytes(), 431),
    ] {
        let answer = raw_exchange(&server, bytes);
        let (got, content_type, body) = raw_answer(&answer);
        assert_eq!(got, status, "{answer}");
        assert_eq!(content_type, "application/json", "{answer}");
        let message = error_message(&body);
        assert!(!message.is_empty());
    }
    // On a connection that already had an answer, the next unparsable request too.
    let answer = raw_exchange(
        &server,
        b"GET /health HTTP/1.1\r\nhost: x\r\n\r\nnot http at all\r\n\r\n",
    );
    let (first, second) = answer.split_at(answer.find("HTTP/1.1 400").expect(&answer));
    assert_eq!(raw_answer(first).0, 200, "{answer}");
    assert_eq!(json(&raw_answer(first).2)["status"], "ok");
    let (status, content_type, body) = raw_answer(second);
    assert_eq!((status, content_type.as_str()), (400, "application/json"));
    assert!(error_message(&body).contains("HTTP/1.1"));
    // … and the server is still up.
    assert_eq!(server.get_raw("/health").0, 200);
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn serve_answers_the_search_page_with_its_own_files_only() {
    let (_fx, server) = indexed_server();
    for (path, media_type) in [
        ("/", "text/html"),
        ("/?q=uniform&source=arXiv", "text/html"),
        ("/item?path=items/2019/uniform.txt", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let mut response = agent()
            .get(&format!("{}{path}", server.base))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let header = |name: &str| {
            let value = response.headers().get(name);
            value.map(|v| v.to_str().unwrap().to_string())
        };
        assert!(
            header("content-type").unwrap().starts_with(media_type),
            "{path}"
        );
        // The browser itself refuses any request to another host.
        let policy = header("content-security-policy").unwrap();
        assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
        let body = response.body_mut().read_to_string().unwrap();
        assert!(!body.is_empty());
        if media_type == "text/html" {
            assert!(body.contains(r#"<script src="/app.js" defer></script>"#));
        }
    }
}

#[test]
fn serve_records_answers_every_record_of_a_page() {
    let (_fx, server) = indexed_server();
    let records = |params: &[(&str, &str)]| {
        let (status, body) = server.get("/records", params);
        assert_eq!(status, 200, "{params:?}: {body}");
        json(&body)
    };
    let ids = |answer: &Value| -> Vec<String> {
        let records = answer["records"].as_array().unwrap();
        records
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };

    let item = records(&[("path", "items/2019/uniform.txt")]);
    assert_eq!(item["path"], "items/2019/uniform.txt");
    assert_eq!(
        ids(&item),
        [
            "items/2019/uniform.txt#claim-1",
            "items/2019/uniform.txt#claim-2",
            "items/2019/uniform.txt#quote-1"
        ],
        "every record, in the page's order"
    );
    let first = &item["records"][0];
    assert_eq!(first["author"], "Ada Lovelace");
    assert_eq!(
        first["topics"],
        serde_json::json!(["uniform-convergence", "generalization-bounds"])
    );
    assert!(first.get("score").is_none() && first.get("snippet").is_none());
    assert_eq!(item["versions"], serde_json::json!([]));

    // One item of a JSON Lines page, with the threads it appears in.
    let line = records(&[("path", "feeds/items.jsonl"), ("item", "1")]);
    assert_eq!(ids(&line).len(), 5, "four claims and a quote: {line}");
    assert!(ids(&line)
        .iter()
        .all(|id| id.starts_with("feeds/items.jsonl#1/")));
    assert_eq!(line["threads"], serde_json::json!(["Is Theory Broken"]));
    let file = records(&[("path", "feeds/items.jsonl")]);
    assert_eq!(ids(&file).len(), 6, "both items");

    // A thread page: its records, whichever version, and every version.
    let older = records(&[("path", "threads/is-theory-broken/v1.txt")]);
    assert_eq!(older["records"][0]["version"], 1, "older versions are kept");
    let versions = &older["versions"];
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
    assert_eq!(versions[0]["version"], 1);
    assert_eq!(versions[0]["path"], "threads/is-theory-broken/v1.txt");
    assert_eq!(versions[1]["path"], "threads/is-theory-broken/v2.txt");
    assert_eq!(
        records(&[("path", "threads/is-theory-broken/v2.txt")])["versions"],
        *versions
    );

    for (params, status, says) in [
        (
            vec![("path", "items/2019/none.txt")],
            404,
            "nothing is indexed at",
        ),
        (
            vec![("path", "ITEMS/2019/UNIFORM.TXT")],
            404,
            "nothing is indexed at",
        ),
        (
            vec![("path", "feeds/items.jsonl"), ("item", "9")],
            404,
            "nothing is indexed at",
        ),
        (vec![], 400, "'path' is required"),
        (vec![("path", "")], 400, "'path' is required"),
        (vec![("path", "a"), ("path", "b")], 400, "more than once"),
        (
            vec![("path", "feeds/items.jsonl"), ("item", "one")],
            400,
            "line number",
        ),
        (vec![("path", "a"), ("q", "x")], 400, "unknown parameter"),
    ] {
        let (got, body) = server.get("/records", &params);
        assert_eq!(got, status, "{params:?}: {body}");
        assert!(error_message(&body).contains(says), "{params:?}: {body}");
    }
}

#[test]
fn serve_history_by_title_or_slug_and_authors_repeated() {
    let (fx, server) = indexed_server();
    let history = |thread: &str| -> (u16, String) { server.get("/history", &[("thread", thread)]) };
    let (status, body) = history("is-theory-broken");
    assert_eq!(status, 200, "{body}");
    let h: HistoryJson = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(h.thread, "Is Theory Broken");
    let versions: Vec<(u32, Option<&str>, usize)> = (h.versions.iter())
        .map(|v| (v.version, v.date.as_deref(), v.records["event"]))
        .collect();
    assert_eq!(
        versions,
        [(1, Some("2026-05-01"), 1), (2, Some("2026-05-09"), 1)]
    );
    let change = &h.changes[0];
    assert_eq!((change.from, change.to, change.kept), (1, 2, 1));
    assert!(change.added.is_empty() && change.removed.is_empty());
    // The same answer as the command line's, by title in any case.
    let (_, by_title) = history("IS THEORY BROKEN");
    assert_eq!(
        json(&by_title),
        json(&fx.ok(&["history", "Is Theory Broken", "--json"]).stdout)
    );

    let (status, body) = history("no-such-thread");
    assert_eq!(status, 404);
    assert!(error_message(&body).contains("no-such-thread"), "{body}");
    for (query, says) in [
        ("", "'thread' is required"),
        ("thread=", "no value"),
        ("thread=a&thread=b", "more than once"),
        ("thread=a&q=x", "unknown parameter 'q'"),
    ] {
        let (status, body) = server.get_raw(&format!("/history?{query}"));
        assert_eq!(status, 400, "{query}: {body}");
        assert!(error_message(&body).contains(says), "{query}: {body}");
    }

    // Authors: repeatable, by last name, OR.
    let both = server.search(&[("q", "*"), ("author", "lovelace"), ("author", "Riemann")]);
    assert_eq!(both.total, 6, "three records each");
    assert!(both
        .hits
        .iter()
        .all(|h| h.authors == ["Ada Lovelace"] || h.authors == ["B. Riemann"]));
    assert_eq!(both.facets.author.len(), 2);
    // Thread hits carry their first version.
    let events = server.search(&[("q", "*"), ("kind", "event"), ("all_versions", "true")]);
    assert_eq!(events.total, 2);
    assert!(events.hits.iter().all(|h| h.first_version == Some(1)));
}

#[test]
fn serve_stats_health_and_request_logs() {
    let (_fx, server) = indexed_server();
    let (status, body) = server.get_raw("/stats");
    assert_eq!(status, 200);
    let stats = json(&body);
    assert_eq!(stats["pages"], 5);
    assert!(stats["records"].as_u64().unwrap() >= 10);
    assert_eq!(stats["first_date"], "2019-01-01");
    assert_eq!(stats["sources"], 4);
    let (status, body) = server.get_raw("/health");
    assert_eq!(status, 200);
    assert_eq!(json(&body)["index"], true);
    server.eventually("a log line for /stats", |s| {
        let log = s.log();
        log.lines().any(|l| {
            l.contains("path=/stats") && l.contains("status=200") && l.contains("latency_ms=")
        })
    });
}

#[test]
fn serve_sees_a_new_commit_without_restart() {
    let (fx, server) = indexed_server();
    assert_eq!(server.search(&[("q", "grokking")]).total, 1);
    fx.write(
        "items/2025/grok.txt",
        extraction(
            "Grokking, again",
            "Substack · 2025-01-01",
            "grokking",
            &["Grokking returns with weight decay."],
            &["Nothing happens, then everything does."],
        ),
    );
    fx.ok(&["index"]);
    // the new page's claim and quote (its title says grokking) join the old claim
    server.eventually("the second commit to be searched", |s| {
        s.search(&[("q", "grokking")]).total == 3
    });
    let (_, body) = server.get_raw("/stats");
    assert_eq!(json(&body)["pages"], 6);
}

/// A connection that has sent `bytes` and then nothing.
fn stalled(server: &Server, bytes: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(bytes).unwrap();
    stream
}

const HALF_A_REQUEST: &[u8] = b"GET /search?q=grokking HTTP/1.1\r\nHost: claimsearch\r\n";

#[test]
fn serve_drops_a_client_that_stalls_mid_request() {
    let (_fx, server) = indexed_server();
    let mut half = stalled(&server, HALF_A_REQUEST);
    let mut silent = stalled(&server, b"");
    for stream in [&mut half, &mut silent] {
        // Well past the head timeout: the server closes, sending nothing.
        let bound = claimsearch::serve::HEAD_TIMEOUT + Duration::from_secs(20);
        stream.set_read_timeout(Some(bound)).unwrap();
        let mut answer = Vec::new();
        match stream.read_to_end(&mut answer) {
            Ok(_) => assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer)),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        }
    }
    // Everyone else is served as before.
    assert_eq!(server.search(&[("q", "grokking")]).total, 1);
}

#[cfg(unix)]
#[test]
fn serve_shuts_down_cleanly_on_sigterm() {
    let (_fx, mut server) = indexed_server();
    assert_eq!(server.search(&[("q", "grokking")]).total, 1);
    // Clients stalled mid-request do not hold the shutdown.
    let _stalled: Vec<_> = (0..3).map(|_| stalled(&server, HALF_A_REQUEST)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    // The promise: gone within 5 s of SIGTERM.
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    server.eventually("the shutdown log line", |s| {
        s.log().contains("shutting down")
    });
}

/// `cargo test` builds the examples next to the test binary's folder
/// (target/debug/examples/); build it when this test runs alone
/// (`cargo test --test it`) or the binary is older than its source.
fn embed_example() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let folder = deps.parent().unwrap().parent().unwrap().join("examples");
    let path = folder.join(format!("embed{}", std::env::consts::EXE_SUFFIX));
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embed.rs");
    if modified(&path) < modified(&source) {
        let built = Command::new(env!("CARGO"))
            .args(["build", "--example", "embed"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example embed");
        assert!(built.success());
    }
    path
}

#[test]
fn the_embed_example_runs_to_completion() {
    let output = Command::new(embed_example())
        .stdin(Stdio::null())
        .output()
        .expect("run the embed example");
    let mut stdout = String::new();
    output
        .stdout
        .as_slice()
        .read_to_string(&mut stdout)
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "no index yet at",
        "indexed 1 page(s), 7 records",
        "2 match(es) for \"bounds\"",
        "<b>bounds</b>",
        "facet source: LessWrong 2",
        "bad query, ask the user again",
        "bad parameter, fix the request",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}

#[test]
fn an_index_of_another_version_is_503_naming_the_command_that_rebuilds_it() {
    let fx = Fixture::new();
    index_of_another_version(&fx.index());
    let server = Server::start(&fx);
    let message = server.error(503, &[("q", "uniform")]);
    assert!(
        message.contains("built by another version of claimsearch")
            && message.contains("`claimsearch index`"),
        "{message}"
    );
}

#[test]
fn serve_similar_and_collapse_answer_as_the_cli_does() {
    let (fx, server) = indexed_server();
    let id = "items/2019/uniform.txt#claim-1";
    let (status, body) = server.get("/similar", &[("id", id)]);
    assert_eq!(status, 200, "{body}");
    let similar: Similar = serde_json::from_str(&body).unwrap();
    assert_eq!(similar.id, id);
    assert_eq!(similar.group[0].id, id);
    let cli = fx.ok(&["similar", "--json", id]);
    assert_eq!(json(&body), json(&cli.stdout), "same request, same answer");

    let (status, body) = server.get("/similar", &[("id", "nope#claim-1")]);
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("no record with id 'nope#claim-1'"));
    let (status, body) = server.get("/similar", &[]);
    assert_eq!(status, 400);
    assert!(error_message(&body).contains("'id' is required"));
    let (status, _) = server.get("/similar", &[("id", id), ("q", "x")]);
    assert_eq!(status, 400);

    let collapsed = server.search(&[("q", "uniform"), ("collapse", "true")]);
    let plain = server.search(&[("q", "uniform")]);
    assert_eq!(collapsed.total, plain.total);
    assert!(collapsed.groups.is_some_and(|g| g <= plain.total));
    assert_eq!(plain.groups, None);
    server.error(400, &[("q", "x"), ("collapse", "maybe")]);

    // A few matches: the facets are exact, asked for exactly or not.
    assert!(plain.facets_exact);
    let exact = server.search(&[("q", "uniform"), ("exact_facets", "1")]);
    assert!(exact.facets_exact);
    assert_eq!(exact.facets, plain.facets);
    server.error(400, &[("q", "x"), ("exact_facets", "maybe")]);
}

/// A long page's records come back in page order, whichever indexing thread
/// took them: a page is written as one group, so its records stay together.
#[test]
fn a_long_pages_records_come_back_in_page_order() {
    let fx = Fixture::new();
    let claims: Vec<String> = (1..=100)
        .map(|n| format!("Claim number {n} says something about kites."))
        .collect();
    let quotes: Vec<String> = (1..=100)
        .map(|n| format!("Quote number {n} is about the wind and the kites."))
        .collect();
    let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
    let quotes: Vec<&str> = quotes.iter().map(String::as_str).collect();
    for page in 0..20 {
        let text = extraction(
            "Kites",
            "Kite Weekly · Ada · 2024-01-01",
            "kites",
            &claims,
            &quotes,
        );
        fx.write(&format!("items/{page}.txt"), text);
    }
    claimsearch::Index::ingest(&fx.corpus(), &fx.index(), &|_| {}).expect("index");
    let index = claimsearch::Index::open(fx.index()).unwrap();
    for page in 0..20 {
        let path = format!("items/{page}.txt");
        let view = index.page(&path, None).unwrap().expect("the page");
        let ids: Vec<&str> = view.records.iter().map(|r| r.id.as_str()).collect();
        let claims = (1..=100).map(|n| format!("{path}#claim-{n}"));
        let quotes = (1..=100).map(|n| format!("{path}#quote-{n}"));
        let expected: Vec<String> = claims.chain(quotes).collect();
        assert_eq!(ids, expected, "{path}");
    }
}
