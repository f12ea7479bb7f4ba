//! The command line: clap definitions, turned once into library requests and
//! dispatched. Nothing below this module sees clap.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use claimsearch::config::{Paths, CORPUS_ENV, DEFAULT_CORPUS, DEFAULT_INDEX, INDEX_ENV};
use claimsearch::export::Engine;
use claimsearch::ingest::{FileWarning, IndexReport, Progress, Skipped};
use claimsearch::model::{Date, Kind};
use claimsearch::query::{DateBucket, Front, SearchRequest, DEFAULT_LIMIT};
use claimsearch::render::{self, Style};
use claimsearch::{storage, Error, Index};

#[cfg(feature = "server")]
mod serve;

/// Ranked, faceted search over the claims, quotes and thread histories saved by
/// a discourse tracker.
///
/// Exit codes: 0 done, 1 error, 2 usage or bad query, 75 index busy.
#[derive(Debug, Parser)]
#[command(name = "claimsearch", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rebuild the index from every page of the corpus.
    Index(IndexArgs),
    /// Bring the index in line with the corpus, reading only what changed
    /// (cron-safe: one commit, exit 75 if another run holds the index).
    Reindex(ReindexArgs),
    /// Search: ranked claims and quotes with snippets, then facet counts.
    Query(QueryArgs),
    /// What the index holds: records by kind, pages, sources, dates, size.
    Stats(StatsArgs),
    /// A thread's story over its saved versions: each version's records by
    /// kind, and what each version added and removed.
    History(HistoryArgs),
    /// The records that make the same claim as one record, oldest first,
    /// then the nearest records that do not.
    Similar(SimilarArgs),
    /// Serve searches over HTTP as JSON (GET /search, /history, /similar, /stats, /health).
    #[cfg(feature = "server")]
    Serve(ServeArgs),
    /// Print every record as JSON Lines (the hit fields, without score and
    /// snippet), or write a distributed engine's index configuration and
    /// ingest batches into a folder (--format quickwit|opensearch DIR).
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct CorpusArg {
    /// Folder of pages to index.
    #[arg(long, env = CORPUS_ENV, default_value = DEFAULT_CORPUS)]
    corpus: PathBuf,
}

#[derive(Debug, Args)]
struct IndexDirArg {
    /// Folder of the index.
    #[arg(long, env = INDEX_ENV, default_value = DEFAULT_INDEX)]
    index: PathBuf,
}

/// `--index` of `query`: whether it was given on the command line matters,
/// since only an index not named there is built on first use.
#[derive(Debug, Args)]
struct QueryIndexArg {
    /// Folder of the index [default: ./index, or CLAIMSEARCH_INDEX when set;
    /// that one is built from the corpus on first use].
    #[arg(long)]
    index: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct IndexArgs {
    #[command(flatten)]
    corpus: CorpusArg,
    #[command(flatten)]
    index: IndexDirArg,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// What `index` takes, and more.
#[derive(Debug, Args)]
struct ReindexArgs {
    #[command(flatten)]
    run: IndexArgs,
    /// Print only problems (for cron mail).
    #[arg(long, conflicts_with = "json")]
    quiet: bool,
    /// Wait up to SECONDS for another run to release the index instead of
    /// exiting with code 75.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    wait: f64,
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// Words, "exact phrases", -excluded, OR, field:value (text, title, topics,
    /// source, author, kind, topic, thread); * matches everything.
    query: String,
    #[command(flatten)]
    index: QueryIndexArg,
    /// Corpus to build the index from when there is none yet.
    #[command(flatten)]
    corpus: CorpusArg,
    /// Hits to show.
    #[arg(long, default_value_t = DEFAULT_LIMIT)]
    limit: usize,
    /// Hits to skip (for paging).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Only records from this source (repeat for several).
    #[arg(long = "source", value_name = "SOURCE")]
    sources: Vec<String>,
    /// Only records with this topic slug (repeat for several).
    #[arg(long = "topic", value_name = "TOPIC")]
    topics: Vec<String>,
    /// Only records of this kind: claim, quote, summary, event, perspective,
    /// tension, narrative, passage (repeat for several).
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<Kind>,
    /// Only records by this author: the byline, or one author by full or last
    /// name, ignoring case and accents (repeat for several).
    #[arg(long = "author", value_name = "AUTHOR")]
    authors: Vec<String>,
    /// Only records of this thread, or items that appear in it.
    #[arg(long)]
    thread: Option<String>,
    /// Only records dated on or after this day (YYYY-MM-DD), or from the
    /// start of this month (YYYY-MM) or year (YYYY).
    #[arg(long, value_parser = first_day)]
    since: Option<Date>,
    /// Only records dated on or before this day (YYYY-MM-DD), or up to the
    /// end of this month (YYYY-MM) or year (YYYY).
    #[arg(long, value_parser = last_day)]
    until: Option<Date>,
    /// Group the date facet by year, month or day.
    #[arg(long, default_value = "year")]
    date_bucket: DateBucket,
    /// Include records of older versions of threads.
    #[arg(long)]
    all_versions: bool,
    /// Only quotes found in the corpus's raw text.
    #[arg(long)]
    verified: bool,
    /// One hit per claim: records making the same claim count once, shown
    /// by the best-ranked of them.
    #[arg(long)]
    collapse: bool,
    /// Count the facets over every match: a broad search otherwise
    /// estimates them past 50,000 matches.
    #[arg(long)]
    exact_facets: bool,
    /// Print one JSON object (the contract documented in the README).
    #[arg(long)]
    json: bool,
    /// Print the request body quickwit or opensearch needs for this query,
    /// filters, facets and date histogram, instead of searching.
    #[arg(long, value_name = "ENGINE", conflicts_with = "json")]
    explain: Option<Engine>,
}

#[derive(Debug, Args)]
struct StatsArgs {
    #[command(flatten)]
    index: IndexDirArg,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct HistoryArgs {
    /// The thread's title (any case) or slug (`deep-learning-theory-is-broken`).
    thread: String,
    #[command(flatten)]
    index: IndexDirArg,
    /// Print one JSON object (the contract documented in the README).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SimilarArgs {
    /// A record id, as a hit shows it (`items/2019/a.txt#claim-2`).
    id: String,
    #[command(flatten)]
    index: IndexDirArg,
    /// Print one JSON object (documented in the README).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    index: IndexDirArg,
    /// jsonl (every record on stdout), or quickwit or opensearch: the
    /// engine's index configuration and NDJSON batches of at most 10 MB in DIR.
    #[arg(long, default_value = "jsonl", value_name = "FORMAT")]
    format: ExportFormat,
    /// The index name in the engine (in the configuration and the batches).
    #[arg(long, default_value = claimsearch::export::INDEX_NAME)]
    name: String,
    /// Folder to write the engine's files into (new or empty).
    dir: Option<PathBuf>,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy)]
enum ExportFormat {
    JsonLines,
    Engine(Engine),
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "jsonl" => Ok(ExportFormat::JsonLines),
            other => other
                .parse()
                .map(ExportFormat::Engine)
                .map_err(|_| format!("unknown format '{other}' (jsonl, quickwit or opensearch)")),
        }
    }
}

#[cfg(feature = "server")]
#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    index: IndexDirArg,
    /// Address to listen on; loopback by default.
    #[arg(long, default_value = "127.0.0.1:7700")]
    addr: std::net::SocketAddr,
    /// Count facets exactly over a search's first N matches (each index
    /// segment its share, by size), and estimate them from a sample past
    /// that (a broad search); `all` never estimates. A request with exact_facets=true
    /// always counts every match.
    #[arg(long, value_name = "N", value_parser = match_bound,
          default_value_t = claimsearch::query::FACETS_EXACT_UP_TO)]
    facets_exact_up_to: u64,
}

/// `--facets-exact-up-to`: a number of matches, or `all`.
#[cfg(feature = "server")]
fn match_bound(s: &str) -> std::result::Result<u64, String> {
    match s {
        "all" => Ok(u64::MAX),
        _ => s
            .parse()
            .map_err(|_| format!("'{s}' is not a number of matches (or all)")),
    }
}

/// `--since`: the first day of a day, month or year.
fn first_day(s: &str) -> std::result::Result<Date, String> {
    Date::first_of(s).ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)"))
}

/// `--until`: the last day of a day, month or year.
fn last_day(s: &str) -> std::result::Result<Date, String> {
    Date::last_of(s).ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)"))
}

impl QueryArgs {
    fn request(&self) -> SearchRequest {
        SearchRequest {
            query: self.query.clone(),
            limit: self.limit,
            offset: self.offset,
            sources: self.sources.clone(),
            topics: self.topics.clone(),
            kinds: self.kinds.clone(),
            authors: self.authors.clone(),
            thread: self.thread.clone(),
            since: self.since,
            until: self.until,
            date_bucket: self.date_bucket,
            all_versions: self.all_versions,
            verified: self.verified,
            collapse: self.collapse,
            exact_facets: self.exact_facets,
        }
    }
}

impl CorpusArg {
    fn paths(self, index: IndexDirArg) -> Paths {
        Paths {
            corpus: self.corpus,
            index: index.index,
        }
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let style = Style::detect(
        io::stdout().is_terminal(),
        std::env::var("NO_COLOR").ok().as_deref(),
    );
    let mut out = io::stdout().lock();
    match cli.command {
        Command::Index(args) => index(args, &mut out)?,
        Command::Reindex(args) => reindex(args, &mut out)?,
        Command::Query(args) => query(args, &mut out, style)?,
        Command::Stats(args) => stats(args, &mut out, style)?,
        Command::History(args) => history(args, &mut out, style)?,
        Command::Similar(args) => similar(args, &mut out, style)?,
        Command::Export(args) => export(args, &mut out)?,
        #[cfg(feature = "server")]
        Command::Serve(args) => {
            let options = claimsearch::serve::Options {
                facets_exact_up_to: args.facets_exact_up_to,
            };
            serve::run(&args.index.index, args.addr, options)?
        }
    }
    out.flush()?;
    Ok(())
}

fn index(args: IndexArgs, out: &mut impl Write) -> Result<()> {
    let report = build_index(&args.corpus.paths(args.index))?;
    if args.json {
        render::json(out, &report)?;
    } else {
        render::index_summary(out, &report)?;
    }
    Ok(())
}

fn reindex(args: ReindexArgs, out: &mut impl Write) -> Result<()> {
    let paths = args.run.corpus.paths(args.run.index);
    let wait = std::time::Duration::try_from_secs_f64(args.wait)
        .map_err(|_| Error::BadRequest("--wait takes a number of seconds".into()))?;
    let bar = progress_bar(args.quiet);
    claimsearch::ingest::map_large_allocations();
    let report = Index::reindex(&paths.corpus, &paths.index, wait, &bar.callback())
        .with_context(|| format!("reindexing {}", paths.corpus.display()))?;
    bar.0.finish_and_clear();
    report_problems(&paths.corpus, &report.skipped, &report.warnings);
    if args.run.json {
        render::json(out, &report)?;
    } else if !args.quiet {
        render::reindex_summary(out, &report)?;
    }
    Ok(())
}

fn query(args: QueryArgs, out: &mut impl Write, style: Style) -> Result<()> {
    let request = args.request();
    request.validate_for(Front::Cli)?;
    if let Some(engine) = args.explain {
        let body = claimsearch::export::explain(engine, &request)?;
        serde_json::to_writer_pretty(&mut *out, &body)?;
        writeln!(out)?;
        return Ok(());
    }
    // Only the default index is built on first use: a path given by
    // `--index` that holds no index is a typo more often than a wish for a
    // new index.
    let named = args.index.index.is_some();
    let index = (args.index.index)
        .or_else(|| std::env::var_os(INDEX_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_INDEX));
    let paths = args.corpus.paths(IndexDirArg { index });
    if named && !storage::exists(&paths.index) {
        return Err(Error::IndexMissing(paths.index).into());
    }
    if !storage::exists(&paths.index) {
        eprintln!(
            "claimsearch: no index at {}; building it from {}",
            paths.index.display(),
            paths.corpus.display()
        );
        let report = build_index(&paths)?;
        render::index_summary(&mut io::stderr(), &report)?;
    }
    let index = Index::open_snapshot(&paths.index)?;
    let response = index.search(&request)?;
    if args.json {
        render::json(out, &response)?;
    } else {
        render::human_query(out, &response, request.offset, style)?;
    }
    // The process ends here: unmapping the index's files one by one
    // would only add to a one-shot query's time.
    std::mem::forget(index);
    Ok(())
}

fn stats(args: StatsArgs, out: &mut impl Write, style: Style) -> Result<()> {
    let stats = Index::open_snapshot(&args.index.index)?.stats()?;
    if args.json {
        render::json(out, &stats)?;
    } else {
        render::human_stats(out, &stats, style)?;
    }
    Ok(())
}

fn history(args: HistoryArgs, out: &mut impl Write, style: Style) -> Result<()> {
    let index = Index::open_snapshot(&args.index.index)?;
    let Some(history) = index.history(&args.thread)? else {
        anyhow::bail!(
            "no thread titled or slugged '{}' in the index at {}",
            args.thread,
            args.index.index.display()
        );
    };
    if args.json {
        render::json(out, &history)?;
    } else {
        render::human_history(out, &history, style)?;
    }
    Ok(())
}

fn similar(args: SimilarArgs, out: &mut impl Write, style: Style) -> Result<()> {
    let similar = Index::open_snapshot(&args.index.index)?.similar(&args.id)?;
    if args.json {
        render::json(out, &similar)?;
    } else {
        render::human_similar(out, &similar, style)?;
    }
    Ok(())
}

fn export(args: ExportArgs, out: &mut impl Write) -> Result<()> {
    let engine = match (args.format, args.dir) {
        (ExportFormat::JsonLines, None) => None,
        (ExportFormat::Engine(engine), Some(dir)) => Some((engine, dir)),
        (ExportFormat::JsonLines, Some(_)) => {
            return Err(Error::BadRequest(
                "a folder is for --format quickwit or opensearch; JSON Lines go to stdout".into(),
            )
            .into())
        }
        (ExportFormat::Engine(engine), None) => {
            return Err(Error::BadRequest(format!(
                "--format {engine} writes files: give the folder (claimsearch export --format {engine} DIR)"
            ))
            .into())
        }
    };
    let index = Index::open_snapshot(&args.index.index)?;
    let Some((engine, dir)) = engine else {
        return Ok(index.for_each_record(|record| {
            render::json(out, &record).map_err(|e| Error::io("stdout", e))
        })?);
    };
    let summary = index
        .export_to(engine, &args.name, &dir)
        .with_context(|| format!("exporting to {}", dir.display()))?;
    for id in &summary.too_large {
        eprintln!("claimsearch: left out record {id}: larger than a batch alone");
    }
    writeln!(
        out,
        "wrote {} records in {} batches and {} for {engine}",
        summary.records,
        summary.batches,
        summary.config.display()
    )?;
    Ok(())
}

/// Full rebuild with a progress bar on a terminal and problems on stderr.
fn build_index(paths: &Paths) -> Result<IndexReport> {
    claimsearch::ingest::map_large_allocations();
    let bar = progress_bar(false);
    let report = Index::ingest(&paths.corpus, &paths.index, &bar.callback())
        .with_context(|| format!("indexing {}", paths.corpus.display()))?;
    bar.0.finish_and_clear();
    report_problems(&paths.corpus, &report.skipped, &report.warnings);
    Ok(report)
}

/// A progress bar on stderr when it is a terminal (and not `--quiet`).
struct Bar(ProgressBar);

impl Bar {
    fn callback(&self) -> impl Fn(Progress) + Sync + '_ {
        |p: Progress| match p {
            Progress::Found(n) => self.0.set_length(n as u64),
            Progress::Parsed(_) => self.0.inc(1),
            Progress::Committing => self.0.set_message("committing"),
        }
    }
}

fn progress_bar(quiet: bool) -> Bar {
    if quiet || !io::stderr().is_terminal() {
        return Bar(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} pages {msg}") {
        bar.set_style(style);
    }
    Bar(bar)
}

/// One line per skipped file or warning, naming the file (and line).
fn report_problems(corpus: &Path, skipped: &[Skipped], warnings: &[FileWarning]) {
    for s in skipped {
        let path = corpus.join(&s.path);
        eprintln!("claimsearch: skipped {}: {}", path.display(), s.reason);
    }
    for FileWarning { path, warning } in warnings {
        let place = match warning.line {
            Some(line) => format!("{}:{line}", corpus.join(path).display()),
            None => corpus.join(path).display().to_string(),
        };
        eprintln!("claimsearch: warning: {place}: {}", warning.message);
    }
}
