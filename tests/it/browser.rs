//! The search page in a real browser: headless Chromium driven through
//! WebDriver (chromedriver), against `claimsearch serve` on a copy of the
//! default corpus. Every check compares what the page shows with what
//! `/search` or `/records` answers for the page's own address, so the tests
//! hold whatever the corpus holds.
//!
//! Chromium and its driver are Debian's `chromium` and `chromium-driver`
//! (`.ci/run` installs them; `CHROMIUM` and `CHROMEDRIVER` name other
//! binaries). Where they are missing the tests print a notice and pass
//! without running, except under CI (`CI` set), where a missing browser fails.
//! `CLAIMSEARCH_SCREENSHOTS=DIR` writes the README's screenshots to DIR.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::serve::Server;
use crate::util::Fixture;

/// One browser at a time: two Chromiums on a small machine slow every other
/// test down.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// How long to wait for the page to catch up with an action. Not a timing
/// assertion: a slow machine only makes the test wait longer.
const PATIENCE: Duration = Duration::from_secs(20);

/// The page's own page size (`PAGE_SIZE` in app.js), what it asks `/search` for.
const PAGE_SIZE: &str = "10";

#[test]
fn browser_search_typing_facets_histogram_paging_versions_and_history() {
    with_browser(search_journey);
}

#[test]
fn browser_item_view_thread_versions_and_shared_links() {
    with_browser(item_journey);
}

#[test]
fn browser_accessibility_narrow_and_dark_screens_and_paint_timing() {
    with_browser(accessibility_and_looks);
}

#[test]
fn browser_estimated_facet_counts_are_marked_and_can_be_counted_exactly() {
    // The default corpus is far under the bound of exact counting; a server
    // that counts 8 matches a segment exactly estimates the rest.
    with_browser_serving(estimated_facets_journey, &["--facets-exact-up-to", "8"]);
}

// ---- the journeys ---------------------------------------------------------

async fn search_journey(page: Arc<Page>) {
    // The box has focus on load; typing searches without pressing anything.
    page.open("/").await;
    let landing = page
        .wait("the landing, the search box focused", |s| {
            s["focused"] == "q" && s["about"].is_string()
        })
        .await;
    assert!(
        landing["about"].as_str().unwrap().contains("records from"),
        "{landing}"
    );
    page.find("#q")
        .await
        .send_keys("uniform convergence")
        .await
        .unwrap();
    page.wait_url("/?q=uniform+convergence").await;
    let first = page.expect_search().await;
    assert!(
        first["total"].as_u64().unwrap() > 10,
        "paging needs a second page"
    );
    for name in ["kind", "source", "topic"] {
        assert!(
            first["facets"][name]
                .as_array()
                .is_some_and(|f| f.len() > 1),
            "{name}"
        );
    }

    // `/` brings focus back from anywhere; Enter searches at once.
    page.client
        .execute("document.activeElement.blur()", vec![])
        .await
        .unwrap();
    page.find("body").await.send_keys("/").await.unwrap();
    page.wait("`/` to focus the search box", |s| s["focused"] == "q")
        .await;
    let a_kind = first["facets"]["kind"][0]["value"].as_str().unwrap();
    page.find(&facet_checkbox("kind", a_kind))
        .await
        .send_keys("/")
        .await
        .unwrap();
    page.wait("`/` on a checkbox to focus the search box", |s| {
        s["focused"] == "q"
    })
    .await;
    assert_eq!(page.url().await, "/?q=uniform+convergence", "no filter set");

    // A facet value filters; a second value of the same facet widens (OR).
    let sources = first["facets"]["source"].as_array().unwrap().clone();
    let (one, two) = (&sources[0], &sources[1]);
    page.click_facet("source", one["value"].as_str().unwrap())
        .await;
    let narrowed = page.expect_search().await;
    assert_eq!(narrowed["total"], one["count"], "the facet's count");
    assert!(page.url().await.contains("source="));
    page.click_facet("source", two["value"].as_str().unwrap())
        .await;
    let widened = page.expect_search().await;
    assert_eq!(
        widened["total"].as_u64().unwrap(),
        one["count"].as_u64().unwrap() + two["count"].as_u64().unwrap(),
        "two sources OR together"
    );
    let state = page.state().await;
    assert_eq!(state["checked"].as_array().unwrap().len(), 2, "{state}");
    assert_eq!(state["chips"].as_array().unwrap().len(), 2, "{state}");

    // The keyboard works the facets too: Space on a checkbox.
    let kind = widened["facets"]["kind"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let before = page.url().await;
    page.find(&facet_checkbox("kind", &kind))
        .await
        .send_keys(" ")
        .await
        .unwrap();
    page.wait("the kind filter in the address", |s| {
        s["url"].as_str() != Some(&before) && s["url"].as_str().unwrap().contains("kind=")
    })
    .await;
    page.expect_search().await;
    // … and its chip removes it again.
    page.find(&format!(r#".chip[data-key="filter:kind:{kind}"]"#))
        .await
        .click()
        .await
        .unwrap();
    page.wait_url(&before).await;
    let with_sources = page.expect_search().await;

    // A bar of the histogram narrows to its year and shows it by month.
    let tallest = tallest_bucket(&with_sources);
    page.find(&format!(r#"svg.bars a[data-bucket="{tallest}"]"#))
        .await
        .click()
        .await
        .unwrap();
    page.wait("the year in the address", |s| {
        s["url"].as_str().unwrap().contains(&format!(
            "since={tallest}-01-01&until={tallest}-12-31&date_bucket=month"
        ))
    })
    .await;
    let year = page.expect_search().await;
    assert!(year["facets"]["date"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["value"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{tallest}-"))));
    let in_year: u64 = with_sources["facets"]["date"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["value"] == tallest.as_str())
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(year["total"].as_u64().unwrap(), in_year, "the bar's count");
    // A month bar narrows to its days; the crumbs lead back out.
    let month = tallest_bucket(&year);
    page.find(&format!(r#"svg.bars a[data-bucket="{month}"]"#))
        .await
        .click()
        .await
        .unwrap();
    page.wait("the month in the address", |s| {
        s["url"].as_str().unwrap().contains("date_bucket=day")
    })
    .await;
    page.expect_search().await;
    page.find(r#"[data-key="crumb:year"]"#)
        .await
        .click()
        .await
        .unwrap();
    page.wait("back to the year by month", |s| {
        s["url"].as_str().unwrap().contains("date_bucket=month")
    })
    .await;
    page.expect_search().await;

    // Back and forward restore each state.
    let in_the_year = page.url().await;
    page.client.back().await.unwrap();
    page.wait("back to the days", |s| {
        s["url"].as_str().unwrap().contains("date_bucket=day")
    })
    .await;
    page.expect_search().await;
    page.client.back().await.unwrap();
    page.wait_url(&in_the_year).await;
    page.expect_search().await;
    page.client.back().await.unwrap();
    page.wait_url(&before).await;
    page.expect_search().await;
    page.client.forward().await.unwrap();
    page.wait_url(&in_the_year).await;
    page.expect_search().await;
    page.find(r#"[data-key="crumb:all"]"#)
        .await
        .click()
        .await
        .unwrap();
    page.wait_url(&before).await;
    page.expect_search().await;

    // Paging: the next page, its number, and back.
    page.open("/?q=uniform+convergence").await;
    let page_one = page.expect_search().await;
    page.find("a[rel=next]").await.click().await.unwrap();
    page.wait_url("/?q=uniform+convergence&offset=10").await;
    let page_two = page.expect_search().await;
    let pages = page_one["total"].as_u64().unwrap().div_ceil(10);
    assert_eq!(page.state().await["page"], format!("Page 2 of {pages}"));
    assert_ne!(page_one["hits"][0]["id"], page_two["hits"][0]["id"]);
    page.find("a[rel=prev]").await.click().await.unwrap();
    page.wait_url("/?q=uniform+convergence").await;
    page.expect_search().await;
    page.client.back().await.unwrap();
    page.wait_url("/?q=uniform+convergence&offset=10").await;
    page.expect_search().await;

    // The versions toggle brings older thread versions in.
    page.open("/?q=uniform+convergence&kind=event").await;
    let newest = page.expect_search().await;
    page.find("#all-versions").await.click().await.unwrap();
    page.wait_url("/?q=uniform+convergence&kind=event&all_versions=true")
        .await;
    let every = page.expect_search().await;
    assert!(
        every["total"].as_u64() > newest["total"].as_u64(),
        "older versions add events: {} then {}",
        newest["total"],
        every["total"]
    );
    // A reload shows the same.
    page.client.refresh().await.unwrap();
    page.expect_search().await;
    assert_eq!(page.state().await["allVersions"], true);

    // Typing a new query keeps the filters; however long the typing, back
    // returns to what was on screen before it.
    page.open("/?q=uniform+convergence&source=arXiv").await;
    page.expect_search().await;
    page.client
        .execute("document.querySelector('#q').select()", vec![])
        .await
        .unwrap();
    let input = page.find("#q").await;
    input.send_keys("grokking").await.unwrap();
    page.wait_url("/?q=grokking&source=arXiv").await;
    page.expect_search().await;
    input.send_keys(" OR memorization").await.unwrap();
    page.wait_url("/?q=grokking+OR+memorization&source=arXiv")
        .await;
    page.expect_search().await;
    page.client.back().await.unwrap();
    page.wait_url("/?q=uniform+convergence&source=arXiv").await;
    page.expect_search().await;
    assert_eq!(page.state().await["q"], "uniform convergence");

    // Fields the API is gaining show as soon as they appear.
    page.open("/").await;
    page.settle().await;
    page.client.execute(FUTURE_FIELDS, vec![]).await.unwrap();
    let expected = loop {
        let served = page
            .client
            .execute("return window.served", vec![])
            .await
            .unwrap();
        if served.is_object() {
            break shown_by_page(&served);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let state = page
        .wait("the answer with new fields", |s| {
            expected
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| &s[k] == v)
        })
        .await;
    assert_eq!(
        state["facets"]["author"],
        json!([["Ada Lovelace", 3], ["(none)", 2]])
    );
    assert_eq!(state["facets"]["language"], json!([["en", 9]]));
    let notes = state["notes"].as_str().unwrap();
    for says in [
        "Showing results for uniform convergence (convergense → convergence)",
        "an unbalanced quote was ignored",
        "a dangling OR was ignored",
    ] {
        assert!(notes.contains(says), "{says}: {notes}");
    }
    assert!(
        state["summary"]
            .as_str()
            .unwrap()
            .ends_with("7 distinct claims"),
        "{state}"
    );
    assert!(state["details"][0].as_array().unwrap().contains(&json!(
        "Also in 2 other items, first: The first — arXiv · C. Three · 2017-01-01"
    )));

    // "Clear filters" drops every filter and the date window, not the query.
    page.open("/?q=uniform+convergence&source=arXiv&kind=claim&since=2019-01-01&until=2019-12-31&date_bucket=month&all_versions=true")
        .await;
    page.expect_search().await;
    page.find("a.clear").await.click().await.unwrap();
    page.wait_url("/?q=uniform+convergence&all_versions=true")
        .await;
    page.expect_search().await;

    // The provenance toggle keeps only quotes found in the raw text.
    page.open("/?q=*").await;
    page.expect_search().await;
    page.find("#verified").await.click().await.unwrap();
    page.wait_url("/?q=*&verified=true").await;
    let verified = page.expect_search().await;
    assert!(verified["hits"].as_array().unwrap().iter().all(|h| {
        h["kind"] == "quote" && h["found_in"].as_array().is_some_and(|f| !f.is_empty())
    }));
}

/// Fields other parts of the API are gaining, added to real answers in the
/// browser: the page shows each and breaks on none.
const FUTURE_FIELDS: &str = r#"
const fetched = window.fetch.bind(window);
window.fetch = async (url, options) => {
  const response = await fetched(url, options);
  if (!String(url).startsWith('/search?')) return response;
  const data = await response.json();
  data.corrections = [{ from: 'convergense', to: 'convergence' }];
  data.warnings = ['an unbalanced quote was ignored', { message: 'a dangling OR was ignored' }];
  data.groups = 7;
  data.facets.author = [{ value: 'Ada Lovelace', count: 3 }, { value: null, count: 2 }];
  data.facets.source.push({ value: null, count: 5 });
  data.facets.date.push({ value: null, count: 4 });
  data.facets.language = [{ value: 'en', count: 9 }];
  for (const hit of data.hits) {
    hit.authors = ['A. One', 'B. Two'];
    hit.echoes = { count: 2, first: { title: 'The first', source: 'arXiv', authors: ['C. Three'], date: '2017-01-01', path: 'items/first.txt' } };
    if (hit.kind === 'quote') hit.found_in = [{ path: 'raw/a.txt', title: 'Raw A' }];
    if (hit.version !== null) hit.first_version = 1;
    hit.something_new = { nested: [1, 2] };
  }
  data.query = 'uniform convergense';
  window.served = data;
  return new Response(JSON.stringify(data), { status: 200, headers: { 'content-type': 'application/json' } });
};
history.pushState(null, '', '/?q=uniform+convergense');
window.dispatchEvent(new PopStateEvent('popstate'));
"#;

async fn item_journey(page: Arc<Page>) {
    // From a claim to its item, the claim marked.
    page.open("/?q=uniform+convergence&kind=claim").await;
    let claims = page.expect_search().await;
    let hit = &claims["hits"][0];
    page.find("#hits > li:first-child a.title")
        .await
        .click()
        .await
        .unwrap();
    page.wait("the item view", |s| s["path"] == "/item").await;
    let item = page.expect_item().await;
    let state = page.state().await;
    assert_eq!(state["h1"], hit["title"]);
    assert_eq!(state["targeted"], hit["id"], "the clicked claim is marked");
    assert_eq!(state["focused"], "item-title");
    let byline = state["byline"].as_str().unwrap();
    for part in ["source", "date"] {
        if let Some(value) = hit[part].as_str() {
            assert!(byline.contains(value), "{part} in {byline}");
        }
    }
    assert!(item["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == "claim"));
    // Its topics and threads lead back to searches.
    page.find(".topics a").await.click().await.unwrap();
    page.wait("a topic search", |s| {
        s["path"] == "/" && s["url"].as_str().unwrap().contains("topic=")
    })
    .await;
    page.expect_search().await;
    page.client.back().await.unwrap();
    page.wait("the item again", |s| s["path"] == "/item").await;
    page.expect_item().await;

    // A thread page lists its versions; each opens.
    page.open("/?q=*&kind=narrative&limit=100").await;
    let narratives = page.expect_search().await;
    let several = narratives["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| {
            let path = h["path"].as_str().unwrap();
            let (_, body) = page.server.get("/records", &[("path", path)]);
            serde_json::from_str::<Value>(&body).unwrap()["versions"]
                .as_array()
                .is_some_and(|v| v.len() > 1)
        })
        .expect("the default corpus has a thread of several versions")
        .clone();
    page.find(&format!(
        r#"#hits > li[data-id="{}"] a.title"#,
        several["id"].as_str().unwrap()
    ))
    .await
    .click()
    .await
    .unwrap();
    page.wait("the thread view", |s| s["path"] == "/item").await;
    let thread = page.expect_item().await;
    let versions = thread["versions"].as_array().unwrap().clone();
    let state = page.state().await;
    let newest = versions.last().unwrap();
    assert_eq!(
        newest["path"], several["path"],
        "search shows the newest version"
    );
    assert_eq!(
        state["current"],
        format!("Version {}{}", newest["version"], date_suffix(newest))
    );
    let oldest = &versions[0];
    page.find(&format!(
        r#"nav.versions a[href="/item?path={}"]"#,
        form_urlencoded::byte_serialize(oldest["path"].as_str().unwrap().as_bytes())
            .collect::<String>()
    ))
    .await
    .click()
    .await
    .unwrap();
    let oldest_path = oldest["path"].as_str().unwrap().to_string();
    page.wait("the oldest version", |s| {
        s["itemPath"] == oldest_path.as_str()
    })
    .await;
    page.expect_item().await;
    let state = page.state().await;
    assert!(
        state["byline"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Version {}", oldest["version"])),
        "{state}"
    );
    page.client.back().await.unwrap();
    page.wait("the newest version again", |s| {
        s["itemPath"] == newest["path"]
    })
    .await;
    page.expect_item().await;

    // A JSON Lines item is one item of its file.
    page.open("/?q=*&kind=claim&limit=100").await;
    let many = page.expect_search().await;
    let jsonl = many["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"].as_str().unwrap().ends_with(".jsonl"))
        .expect("the default corpus has JSON Lines items")
        .clone();
    let href = page
        .find(&format!(
            r#"#hits > li[data-id="{}"] a.title"#,
            jsonl["id"].as_str().unwrap()
        ))
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(href.contains("&item="), "{href}");

    // Shared links, loaded directly, show exactly that state.
    let shared = "/?q=uniform+convergence&source=arXiv&source=NeurIPS&since=2019-01-01&until=2019-12-31&date_bucket=month&all_versions=true";
    page.open(shared).await;
    let answer = page.expect_search().await;
    assert!(answer["total"].as_u64().unwrap() > 0);
    let state = page.state().await;
    assert_eq!(state["q"], "uniform convergence");
    assert_eq!(state["allVersions"], true);
    assert_eq!(
        state["checked"],
        json!(["source=arXiv", "source=NeurIPS"]),
        "{state}"
    );
    assert_eq!(state["histogram"], "Matches by month, 2019");
    page.open(&href).await;
    page.wait("the shared item", |s| s["path"] == "/item").await;
    let shared_item = page.expect_item().await;
    let records = shared_item["records"].as_array().unwrap();
    assert!(records
        .iter()
        .all(|r| r["id"].as_str().unwrap().starts_with(&format!(
            "{}#{}/",
            jsonl["path"].as_str().unwrap(),
            item_line(&jsonl)
        ))));
    assert_eq!(page.state().await["h1"], jsonl["title"]);

    // An address that matches nothing says so, and a bad query shows the error.
    page.open("/?q=zzzqqqxxy").await;
    page.expect_search().await;
    page.wait("the no-match line", |s| {
        s["empty"]
            .as_str()
            .is_some_and(|e| e.starts_with("No matches"))
    })
    .await;
    page.open("/?q=x&since=2019-02-30").await;
    page.wait("the error line", |s| {
        s["error"].as_str().is_some_and(|e| e.contains("since"))
    })
    .await;
    page.open("/item?path=no/such/page.txt").await;
    page.wait("the missing item", |s| {
        s["error"]
            .as_str()
            .is_some_and(|e| e.contains("nothing is indexed"))
    })
    .await;
}

async fn accessibility_and_looks(page: Arc<Page>) {
    for (name, address) in [
        ("landing", "/"),
        ("results", "/?q=uniform+convergence"),
        (
            "filtered",
            "/?q=grokking&kind=claim&since=2022-01-01&until=2022-12-31&date_bucket=month",
        ),
        ("no match", "/?q=zzzqqqxxy"),
        (
            "item",
            "/item?path=items/2019/in-defense-of-uniform-convergence.txt",
        ),
        (
            "thread",
            "/item?path=threads/can-uniform-convergence-explain-generalization/v2.txt",
        ),
    ] {
        page.open(address).await;
        page.settle().await;
        for scheme in ["light", "dark"] {
            page.color_scheme(scheme);
            page.expect_accessible(&format!("{name} ({scheme})")).await;
        }
        page.color_scheme("light");
    }

    // 320 px wide: nothing sticks out sideways, the filters fold away.
    page.viewport(320, 720);
    for address in [
        "/?q=uniform+convergence",
        "/item?path=threads/can-uniform-convergence-explain-generalization/v2.txt",
    ] {
        page.open(address).await;
        page.settle().await;
        let sticking_out: Value = page
            .client
            .execute(
                "const width = document.documentElement.clientWidth;
                 return [...document.querySelectorAll('body *')]
                   .filter((e) => e.getBoundingClientRect().right > width + 0.5)
                   .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.getAttribute('class')}`);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            sticking_out,
            json!([]),
            "{address} is wider than the screen"
        );
        page.expect_accessible(&format!("{address} at 320 px"))
            .await;
    }
    let folded: Value = page
        .client
        .execute("return document.querySelector('#filters-box').open", vec![])
        .await
        .unwrap();
    assert_eq!(folded, false, "the filters fold away on a phone");
    page.viewport(1280, 900);

    // How long from the response to painted results: pages opened at a
    // search's address, then the same queries typed into an open page.
    let queries = [
        "uniform convergence",
        "grokking",
        "\"double descent\"",
        "memorization -diffusion",
        "*",
        "pac-bayes OR compression",
        "lottery ticket",
        "neural tangent kernel",
        "sparse autoencoders",
        "benign overfitting",
    ];
    let address = |q: &str| {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("q", q)
            .finish();
        format!("/?{query}")
    };
    let mut opened = Vec::new();
    for q in queries {
        page.open(&address(q)).await;
        page.expect_search().await;
        opened.push(page.paint_ms().await);
    }
    let mut typed = Vec::new();
    page.open("/").await;
    for q in queries {
        let input = page.find("#q").await;
        input.clear().await.unwrap();
        input.send_keys(&format!("{q}\u{E007}")).await.unwrap(); // then Enter
        page.wait_url(&address(q)).await;
        page.expect_search().await;
        typed.push(page.paint_ms().await);
    }
    for (how, mut times) in [
        ("a page opened at the address", opened),
        ("a query typed", typed),
    ] {
        times.sort_by(f64::total_cmp);
        eprintln!(
            "browser: {how}: first results painted {:.1} ms after the response \
             (median of {}; fastest {:.1}, slowest {:.1})",
            times[times.len() / 2],
            times.len(),
            times[0],
            times[times.len() - 1]
        );
    }

    // The screenshots the README shows: a query with facets and histogram.
    let scratch = tempfile::tempdir().unwrap();
    let folder = match std::env::var_os("CLAIMSEARCH_SCREENSHOTS") {
        Some(dir) => PathBuf::from(dir),
        None => scratch.path().to_path_buf(),
    };
    std::fs::create_dir_all(&folder).unwrap();
    page.viewport(1100, 760);
    for scheme in ["light", "dark"] {
        page.color_scheme(scheme);
        page.open("/?q=uniform+convergence").await;
        page.expect_search().await;
        let png = page.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = folder.join(format!("search-{scheme}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("browser: wrote {}", path.display());
    }
    page.color_scheme("light");
    page.open("/item?path=threads/can-uniform-convergence-explain-generalization/v2.txt")
        .await;
    page.expect_item().await;
    let path = folder.join("item-light.png");
    std::fs::write(&path, page.client.screenshot().await.unwrap()).unwrap();
    eprintln!("browser: wrote {}", path.display());
}

async fn estimated_facets_journey(page: Arc<Page>) {
    page.open("/?q=*").await;
    let answer = page.expect_search().await;
    assert_eq!(answer["facets_exact"], false, "{answer:#}");
    let state = page
        .wait("the estimate said", |s| s["estimated"].is_string())
        .await;
    let note = state["estimated"].as_str().unwrap();
    assert!(note.contains("estimated from a sample"), "{note}");
    let counts = state["counts"].as_array().unwrap();
    assert!(!counts.is_empty());
    assert!(
        (counts.iter()).all(|c| c.as_str().unwrap().starts_with('≈')),
        "{counts:?}"
    );
    // The note's link asks for the same search counting every match.
    page.find("#facets-estimated a")
        .await
        .click()
        .await
        .unwrap();
    page.wait_url("/?q=*&exact_facets=1").await;
    let exact = page.expect_search().await;
    assert_eq!(exact["facets_exact"], true);
    assert_eq!(exact["total"], answer["total"]);
    let state = page
        .wait("the estimate gone", |s| s["estimated"].is_null())
        .await;
    let counts = state["counts"].as_array().unwrap();
    assert!(!counts.is_empty());
    assert!(
        (counts.iter()).all(|c| !c.as_str().unwrap().starts_with('≈')),
        "{counts:?}"
    );
}

// ---- the page, as the tests see it -----------------------------------------

/// The browser on the server's page.
struct Page {
    client: Client,
    server: Server,
    driver: String,
    session: String,
}

/// What a user sees, read from the page: the address, the search box, the
/// results, every facet value and count, the histogram's bars, the item view.
const STATE: &str = r#"
const one = (s) => document.querySelector(s);
const all = (s) => [...document.querySelectorAll(s)];
const text = (el) => (el ? el.textContent.trim() : null);
const number = (s) => Number(String(s).replace(/[^0-9]/g, ''));
const params = new URLSearchParams(location.search);
return {
  url: location.pathname + location.search,
  path: location.pathname,
  itemPath: location.pathname === '/item' ? params.get('path') : null,
  focused: document.activeElement ? document.activeElement.id : null,
  q: one('#q').value,
  about: text(one('#about')),
  total: one('#total') ? number(text(one('#total'))) : null,
  ids: all('#hits > li').map((li) => li.dataset.id),
  titles: all('#hits > li .title').map(text),
  snippets: all('#hits > li .snippet').map((p) => p.textContent),
  bylines: all('#hits > li').map((li) => text(li.querySelector('.meta .byline'))),
  details: all('#hits > li').map((li) => [...li.querySelectorAll('.details > li')].map(text)),
  kinds: all('#hits > li .kind').map(text),
  summary: text(one('#summary')),
  notes: all('#view .note').map(text).join(' | '),
  facets: Object.fromEntries(all('#facets section').map((s) => [s.dataset.facet,
    [...s.querySelectorAll('li')].map((li) => [text(li.querySelector('.value')), number(text(li.querySelector('.count')))])])),
  estimated: text(one('#facets-estimated')),
  counts: all('#facets .count').map(text),
  checked: all('#facets input:checked').map((i) => `${i.closest('section').dataset.facet}=${i.closest('li').dataset.value}`),
  chips: all('.toolbar .chip').map(text),
  bars: all('svg.bars a').map((a) => a.getAttribute('aria-label')),
  histogram: text(one('#histogram-title')),
  page: text(one('#page')),
  allVersions: one('#all-versions') ? one('#all-versions').checked : null,
  empty: text(one('.empty')),
  error: text(one('.error')),
  h1: text(one('article h1')),
  byline: text(one('article .byline')),
  records: all('article .records li[data-id]').map((li) => li.dataset.id),
  versions: all('nav.versions a').map(text),
  current: text(one('nav.versions [aria-current=page]')),
  targeted: one('.targeted') ? one('.targeted').dataset.id : null,
};
"#;

impl Page {
    async fn open(&self, path_and_query: &str) {
        self.client
            .goto(&format!("{}{path_and_query}", self.server.base))
            .await
            .unwrap_or_else(|e| panic!("open {path_and_query}: {e}"));
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(e) if Instant::now() > deadline => panic!("no {css} on the page: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn state(&self) -> Value {
        self.client.execute(STATE, vec![]).await.unwrap()
    }

    async fn url(&self) -> String {
        self.state().await["url"].as_str().unwrap().to_string()
    }

    /// Polls the page until `check` holds.
    async fn wait(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.state().await;
            if check(&state) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {state:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_url(&self, url: &str) -> Value {
        self.wait(&format!("the address {url}"), |s| s["url"] == url)
            .await
    }

    /// Waits until the page shows exactly what `/search` answers for the
    /// page's address, and returns that answer.
    async fn expect_search(&self) -> Value {
        let url = self.url().await;
        let query = url.split_once('?').map_or("", |(_, q)| q).to_string();
        let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        if !params.iter().any(|(k, _)| k == "limit") {
            params.push(("limit".into(), PAGE_SIZE.into()));
        }
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = self.server.get("/search", &pairs);
        assert_eq!(status, 200, "{url}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        // A facet with chosen values shows the counts it would have without
        // them, so that another value can be added.
        let mut shown = answer.clone();
        for facet in ["kind", "source", "author", "topic"] {
            if !pairs.iter().any(|(k, _)| *k == facet) {
                continue;
            }
            let mut without: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|(k, _)| *k != facet && *k != "offset" && *k != "limit")
                .copied()
                .collect();
            without.push(("limit", "1"));
            let (status, body) = self.server.get("/search", &without);
            assert_eq!(status, 200, "{without:?}: {body}");
            let wider: Value = serde_json::from_str(&body).unwrap();
            let mut buckets = wider["facets"][facet]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // A chosen value with no match left stays on screen, at 0.
            let mut chosen: Vec<&str> = Vec::new();
            for (_, value) in pairs.iter().filter(|(k, _)| *k == facet) {
                let known = |v: &str| {
                    buckets.iter().any(|b| {
                        b["value"]
                            .as_str()
                            .is_some_and(|b| b.eq_ignore_ascii_case(v))
                    }) || chosen.iter().any(|c| c.eq_ignore_ascii_case(v))
                };
                if !known(value) {
                    chosen.push(value);
                }
            }
            buckets.extend(chosen.iter().map(|v| json!({"value": v, "count": 0})));
            shown["facets"][facet] = Value::Array(buckets);
        }
        let expected = shown_by_page(&shown);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.state().await;
            let seen: serde_json::Map<String, Value> = expected
                .as_object()
                .unwrap()
                .keys()
                .map(|k| (k.clone(), state[k].clone()))
                .collect();
            if Value::Object(seen.clone()) == expected {
                return answer;
            }
            if Instant::now() > deadline {
                assert_eq!(
                    Value::Object(seen),
                    expected,
                    "the page at {url} does not show what /search answers"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the item view shows every record `/records` answers for
    /// the page's address, and returns that answer.
    async fn expect_item(&self) -> Value {
        let url = self.url().await;
        let query = url.split_once('?').map_or("", |(_, q)| q).to_string();
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (status, body) = self.server.get("/records", &pairs);
        assert_eq!(status, 200, "{url}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let records = answer["records"].as_array().unwrap();
        assert!(!records.is_empty(), "{url}: {body}");
        // The page groups records by kind, each kind in page order.
        let order = [
            "summary",
            "claim",
            "quote",
            "passage",
            "narrative",
            "event",
            "perspective",
            "tension",
        ];
        let mut ids: Vec<(usize, usize, &str)> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let kind = r["kind"].as_str().unwrap();
                let rank = order.iter().position(|k| *k == kind).unwrap_or(order.len());
                (rank, i, r["id"].as_str().unwrap())
            })
            .collect();
        ids.sort();
        let versions: Vec<String> = answer["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("Version {}{}", v["version"], date_suffix(v)))
            .collect();
        let expected = json!({
            "h1": records[0]["title"],
            "records": ids.iter().map(|(_, _, id)| *id).collect::<Vec<_>>(),
            "versions": versions,
        });
        let deadline = Instant::now() + PATIENCE;
        loop {
            let state = self.state().await;
            let seen = json!({
                "h1": state["h1"], "records": state["records"], "versions": state["versions"],
            });
            if seen == expected {
                return answer;
            }
            if Instant::now() > deadline {
                assert_eq!(
                    seen, expected,
                    "the item at {url} does not show what /records answers"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks a facet value's label.
    async fn click_facet(&self, facet: &str, value: &str) {
        let before = self.url().await;
        let checkbox = self.find(&facet_checkbox(facet, value)).await;
        let id = checkbox.attr("id").await.unwrap().unwrap();
        self.find(&format!("label[for='{id}']"))
            .await
            .click()
            .await
            .unwrap();
        self.wait(&format!("{facet}={value} in the address"), |s| {
            s["url"].as_str() != Some(&before)
        })
        .await;
    }

    /// Waits for the view to be drawn (results, an item, the landing or an error).
    async fn settle(&self) {
        self.wait("the view to be drawn", |s| {
            !s["total"].is_null()
                || !s["h1"].is_null()
                || !s["about"].is_null()
                || !s["error"].is_null()
        })
        .await;
    }

    /// The `claimsearch:results-painted` measure of the search the page's
    /// address asks for, in ms: from the response's last byte to the first
    /// frame drawn after the results were in the document.
    async fn paint_ms(&self) -> f64 {
        let script = format!(
            "const want = new URLSearchParams(location.search);
             if (!want.has('limit')) want.set('limit', '{PAGE_SIZE}');
             return performance.getEntriesByName('claimsearch:results-painted')
               .filter((e) => e.detail && e.detail.search === `/search?${{want}}`)
               .map((e) => e.duration);"
        );
        let deadline = Instant::now() + PATIENCE;
        loop {
            let measures = self.client.execute(&script, vec![]).await.unwrap();
            if let Some(last) = measures.as_array().and_then(|m| m.last()) {
                return last.as_f64().unwrap();
            }
            assert!(Instant::now() < deadline, "no paint measure on the page");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs axe-core on the page: no serious or critical violation.
    async fn expect_accessible(&self, what: &str) {
        let axe = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vendor/axe-core/axe.min.js"),
        )
        .expect("the vendored axe-core");
        self.client.execute(&axe, vec![]).await.unwrap();
        let run = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }))))
  .catch((e) => done([{ id: 'axe failed', impact: 'critical', help: String(e) }]));
"#;
        let violations = self.client.execute_async(run, vec![]).await.unwrap();
        let serious: Vec<&Value> = violations
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
            .collect();
        assert!(serious.is_empty(), "{what}: {serious:#?}");
        if !violations.as_array().unwrap().is_empty() {
            eprintln!("browser: {what}: minor accessibility notes {violations}");
        }
    }

    /// Emulates `prefers-color-scheme: light` or `dark`.
    fn color_scheme(&self, scheme: &str) {
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        );
    }

    /// Emulates a screen `width` × `height` CSS pixels.
    fn viewport(&self, width: u32, height: u32) {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
    }

    /// One Chrome DevTools command through chromedriver.
    fn devtools(&self, command: &str, params: Value) {
        let url = format!("{}/session/{}/goog/cdp/execute", self.driver, self.session);
        let response = ureq::post(&url)
            .send_json(json!({ "cmd": command, "params": params }))
            .unwrap_or_else(|e| panic!("{command}: {e}"));
        assert_eq!(response.status().as_u16(), 200, "{command}");
    }
}

/// What the page must show for a `/search` answer.
fn shown_by_page(answer: &Value) -> Value {
    let hits = answer["hits"].as_array().unwrap();
    let field = |name: &str| -> Vec<Value> { hits.iter().map(|h| h[name].clone()).collect() };
    let snippets: Vec<String> = hits
        .iter()
        .map(|h| {
            unescape(
                &h["snippet"]
                    .as_str()
                    .unwrap()
                    .replace("<b>", "")
                    .replace("</b>", ""),
            )
        })
        .collect();
    let mut facets = serde_json::Map::new();
    for (name, buckets) in answer["facets"].as_object().unwrap() {
        let buckets = buckets.as_array().unwrap();
        if name == "date" || buckets.is_empty() {
            continue;
        }
        let shown: Vec<Value> = buckets
            .iter()
            .map(|b| json!([b["value"].as_str().unwrap_or("(none)"), b["count"]]))
            .collect();
        facets.insert(name.clone(), Value::Array(shown));
    }
    let bars: Vec<String> = answer["facets"]["date"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["value"].is_string() && b["count"].as_u64() > Some(0))
        .map(|b| {
            let n = b["count"].as_u64().unwrap();
            let unit = if n == 1 { "match" } else { "matches" };
            let about = if answer["facets_exact"] == false {
                "about "
            } else {
                ""
            };
            format!(
                "{}: {about}{} {unit}",
                b["value"].as_str().unwrap(),
                thousands(n)
            )
        })
        .collect();
    json!({
        "total": answer["total"],
        "kinds": field("kind"),
        "bylines": hits.iter().map(byline).collect::<Vec<_>>(),
        "details": hits.iter().map(details).collect::<Vec<_>>(),
        "ids": field("id"),
        "titles": field("title"),
        "snippets": snippets,
        "facets": facets,
        "bars": bars,
    })
}

/// ` — source · authors · date` as the page writes it (trimmed), or null.
fn byline(record: &Value) -> Value {
    let authors: Vec<&str> = record["authors"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let joined = authors.join(", ");
    let by = if authors.is_empty() {
        record["author"].as_str()
    } else {
        Some(joined.as_str())
    };
    let parts: Vec<&str> = [record["source"].as_str(), by, record["date"].as_str()]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        Value::Null
    } else {
        Value::String(format!("— {}", parts.join(" · ")))
    }
}

/// The lines under a hit: its thread and version, where a quote was found,
/// its echoes and what it cites, each when the JSON has it.
fn details(hit: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(version) = hit["version"].as_u64() {
        let first = hit["first_version"].as_u64().filter(|f| *f != version);
        let since = first.map_or(String::new(), |f| format!(", first in version {f}"));
        lines.push(format!("Thread version {version}{since}"));
    } else if let Some(thread) = hit["thread"].as_str() {
        lines.push(format!("In thread {thread}"));
    }
    if let Some(found) = hit["found_in"].as_array() {
        lines.push(if found.is_empty() {
            "Not found in the corpus's raw text".to_string()
        } else {
            let titles: Vec<&str> = found
                .iter()
                .map(|f| f["title"].as_str().or(f["path"].as_str()).unwrap())
                .collect();
            format!("✓ Found in {}", titles.join(", "))
        });
    }
    if let Some(count) = hit["echoes"]["count"].as_u64().filter(|c| *c > 0) {
        let unit = if count == 1 {
            "other item"
        } else {
            "other items"
        };
        let mut line = format!("Also in {} {unit}", thousands(count));
        let first = &hit["echoes"]["first"];
        if first.is_object() {
            let title = first["title"].as_str().or(first["path"].as_str()).unwrap();
            line.push_str(&format!(", first: {title}"));
            if let Value::String(by) = byline(first) {
                line.push_str(&format!(" {by}"));
            }
        }
        lines.push(line);
    }
    let cites: Vec<String> = hit["cites"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let about: Vec<&str> = [c["source"].as_str(), c["date"].as_str()]
                .into_iter()
                .flatten()
                .collect();
            let title = c["title"].as_str().unwrap();
            if about.is_empty() {
                title.to_string()
            } else {
                format!("{title} ({})", about.join(", "))
            }
        })
        .collect();
    if !cites.is_empty() {
        lines.push(format!("Cites {}", cites.join("; ")));
    }
    lines
}

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn date_suffix(version: &Value) -> String {
    version["date"]
        .as_str()
        .map_or(String::new(), |d| format!(" · {d}"))
}

fn facet_checkbox(facet: &str, value: &str) -> String {
    format!(r#"#facets section[data-facet="{facet}"] li[data-value="{value}"] input"#)
}

/// The date bucket with the most matches (the first of equals).
fn tallest_bucket(answer: &Value) -> String {
    let buckets = answer["facets"]["date"].as_array().unwrap();
    let best = buckets
        .iter()
        .filter(|b| b["value"].is_string())
        .max_by_key(|b| {
            (
                b["count"].as_u64().unwrap(),
                std::cmp::Reverse(b["value"].as_str().unwrap().to_string()),
            )
        })
        .expect("dated matches");
    best["value"].as_str().unwrap().to_string()
}

/// The JSON Lines line of a record id `path#LINE/kind-n`.
fn item_line(hit: &Value) -> String {
    let id = hit["id"].as_str().unwrap();
    let place = id.split_once('#').unwrap().1;
    place.split_once('/').unwrap().0.to_string()
}

// ---- starting and stopping the browser -------------------------------------

/// Runs `journey` against a fresh server on the default corpus and a fresh
/// browser, or skips with a notice where there is no browser.
fn with_browser<F: Future<Output = ()>>(journey: fn(Arc<Page>) -> F) {
    with_browser_serving(journey, &[]);
}

/// [`with_browser`], the server started with `options`.
fn with_browser_serving<F: Future<Output = ()>>(journey: fn(Arc<Page>) -> F, options: &[&str]) {
    let Some((chromium, chromedriver)) = browser_programs() else {
        let notice = "browser tests skipped: install Debian's chromium and chromium-driver \
                      (or set CHROMIUM and CHROMEDRIVER) to run them";
        assert!(std::env::var_os("CI").is_none(), "CI must run the {notice}");
        eprintln!("{notice}");
        return;
    };
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let fx = default_corpus();
    fx.ok(&["index"]);
    let server = Server::start_with(&fx, options);
    let driver = Driver::start(&chromedriver);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = connect(&driver.url, &chromium).await;
        let session = client.session_id().await.unwrap().expect("a session id");
        let page = Arc::new(Page {
            client: client.clone(),
            server,
            driver: driver.url.clone(),
            session,
        });
        // A failed check must not leave a browser behind: close the session
        // whatever happened, then report.
        let outcome = catch(journey(page)).await;
        let _ = client.close().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
}

/// Awaits `future`, turning a panic inside it into an `Err`.
async fn catch(future: impl Future<Output = ()>) -> std::thread::Result<()> {
    let mut future = Box::pin(future);
    std::future::poll_fn(move |cx| {
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.as_mut().poll(cx)));
        match polled {
            Ok(std::task::Poll::Ready(())) => std::task::Poll::Ready(Ok(())),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(panic) => std::task::Poll::Ready(Err(panic)),
        }
    })
    .await
}

fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    let chromium = program(
        "CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )?;
    let driver = program("CHROMEDRIVER", &["chromedriver"])?;
    Some((chromium, driver))
}

fn program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let folders = std::env::var_os("PATH")?;
    std::env::split_paths(&folders)
        .flat_map(|folder| names.iter().map(move |name| folder.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A copy of the repository's default corpus, indexed in a temporary folder.
fn default_corpus() -> Fixture {
    let fx = Fixture::new();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    copy_tree(&source, &fx.corpus());
    fx
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A running chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(program: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            let ready = ureq::get(&format!("{}/status", driver.url))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|s| s["value"]["ready"] == true);
            if ready {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(driver: &str, chromium: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--lang=en-US", "--window-size=1280,900",
                "--force-device-scale-factor=1", "--hide-scrollbars",
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(driver)
        .await
        .unwrap_or_else(|e| panic!("start a browser session through {driver}: {e}"))
}
