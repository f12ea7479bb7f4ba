//! Terminal output: ranked hits with highlighted snippets, then compact facets.

use std::io::{self, Write};

use super::Style;
use crate::ingest::{IndexReport, ReindexReport};
use crate::model::{FoundIn, Record};
use crate::query::{Appearance, Echoes, FacetCount, Hit, Related, SearchResponse, Similar};
use crate::stats::Stats;

const BOLD_YELLOW: &str = "1;33";
const CYAN: &str = "36";
const DIM: &str = "2";
const BOLD: &str = "1";
const GREEN: &str = "32";

/// Hits, best first, then the facet counts.
pub fn query<W: Write>(
    out: &mut W,
    response: &SearchResponse,
    offset: usize,
    style: Style,
) -> io::Result<()> {
    for warning in &response.warnings {
        writeln!(out, "{}", style.paint(DIM, &format!("note: {warning}")))?;
    }
    if !response.corrections.is_empty() {
        let words: Vec<&str> = (response.corrections.iter())
            .map(|c| c.to.as_str())
            .collect();
        let line = format!("showing results for {}", words.join(", "));
        writeln!(out, "{}", style.paint(DIM, &line))?;
    }
    if response.hits.is_empty() {
        if response.total > 0 && offset >= response.total {
            writeln!(
                out,
                "offset {offset} is past the last of {} matches",
                response.total
            )?;
        } else {
            writeln!(out, "no matches for {}", response.query)?;
        }
    }
    for (i, hit) in response.hits.iter().enumerate() {
        hit_lines(out, offset + i + 1, hit, style)?;
    }
    writeln!(out)?;
    facet_lines(out, response, style)
}

fn hit_lines<W: Write>(out: &mut W, rank: usize, hit: &Hit, style: Style) -> io::Result<()> {
    let one_line = |s: &str| s.replace('\n', " ");
    let snippet = if style.color {
        hit.snippet
            .marked(&format!("\x1b[{BOLD_YELLOW}m"), "\x1b[0m", one_line)
    } else {
        hit.snippet.marked("", "", one_line)
    };
    let kind = style.paint(CYAN, &format!("{:<11}", hit.record.kind.as_str()));
    writeln!(out, "{rank:>3}. {kind} {snippet}")?;
    let mut line = byline(&hit.record);
    if let Some(echoes) = hit.echoes.as_ref().and_then(echo_note) {
        line.push_str(&echoes);
    }
    writeln!(out, "     {}", style.paint(DIM, &line))?;
    if let Some(found_in) = &hit.record.found_in {
        writeln!(out, "     {}", provenance(found_in, style))?;
    }
    Ok(())
}

/// ` · also in 4 items since 2017 (Zhang et al.)`, or nothing without echoes.
fn echo_note(echoes: &Echoes) -> Option<String> {
    let first = echoes.first.as_ref()?;
    let items = match echoes.count {
        0 => return None,
        1 => "1 item".to_string(),
        n => format!("{} items", thousands(n)),
    };
    let since = first
        .date
        .map(|d| format!(" since {}", d.year))
        .unwrap_or_default();
    Some(format!(" · also in {items}{since} ({})", who(first)))
}

/// The first author's surname (`et al.` when there are more), else the
/// source, else the title.
fn who(first: &Appearance) -> String {
    match first.authors.as_slice() {
        [] => first.source.clone().unwrap_or_else(|| first.title.clone()),
        [one] => one.clone(),
        [lead, ..] => {
            let surname = lead.rsplit(' ').next().unwrap_or(lead);
            format!("{surname} et al.")
        }
    }
}

/// The group as a timeline, oldest first, then the nearest other claims.
pub fn similar<W: Write>(out: &mut W, similar: &Similar, style: Style) -> io::Result<()> {
    let records = similar.group.len();
    let heading = match similar.items {
        0 => format!("{records} record(s) make this claim, in no other item"),
        1 => format!("{records} records make this claim, in 1 other item"),
        n => format!("{records} records make this claim, in {n} other items"),
    };
    writeln!(out, "{}", style.paint(BOLD, &heading))?;
    for related in &similar.group {
        related_lines(out, related, similar, style)?;
    }
    if !similar.nearest.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.paint(BOLD, "Nearest records that make another claim")
        )?;
        for related in &similar.nearest {
            related_lines(out, related, similar, style)?;
        }
    }
    Ok(())
}

fn related_lines<W: Write>(
    out: &mut W,
    related: &Related,
    similar: &Similar,
    style: Style,
) -> io::Result<()> {
    let r = &related.record;
    let date = r.date.map_or("undated   ".to_string(), |d| d.to_string());
    let mark = match related.why {
        Some(why) => format!("not the same ({why})"),
        None if r.id == similar.id => "this record".to_string(),
        None => String::new(),
    };
    let kind = style.paint(CYAN, &format!("{:<11}", r.kind.as_str()));
    writeln!(out, "  {date}  {kind} {}", r.text.replace('\n', " "))?;
    let mut line = format!("{} · {}", byline(r), r.id);
    if !mark.is_empty() {
        line.push_str(&format!(" · {mark}"));
    }
    writeln!(out, "              {}", style.paint(DIM, &line))?;
    Ok(())
}

/// Where a quote was found: `✓ in <title>` (each raw text holding it), or
/// that no raw text of the corpus holds it.
fn provenance(found_in: &[FoundIn], style: Style) -> String {
    if found_in.is_empty() {
        return style.paint(DIM, "not found in the corpus's raw text");
    }
    let titles: Vec<&str> = found_in.iter().map(|f| f.title.as_str()).collect();
    style.paint(GREEN, &format!("✓ in {}", titles.join("; ")))
}

/// `title — source · author · date`, or for thread records
/// `thread (version N) · date · cites …`.
fn byline(hit: &Record) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(hit.source.clone());
    parts.extend(hit.author.clone());
    if let Some(version) = hit.version {
        parts.push(format!("thread version {version}"));
    }
    parts.extend(hit.date.map(|d| d.to_string()));
    let mut line = if parts.is_empty() {
        hit.title.clone()
    } else {
        format!("{} — {}", hit.title, parts.join(" · "))
    };
    if !hit.cites.is_empty() {
        let cites: Vec<String> = hit.cites.iter().map(|c| c.title.clone()).collect();
        line.push_str(&format!(" · cites: {}", cites.join("; ")));
    }
    if hit.truncated {
        line.push_str(" · (quote cut short)");
    }
    line
}

fn facet_lines<W: Write>(out: &mut W, response: &SearchResponse, style: Style) -> io::Result<()> {
    let total = match (response.groups, response.groups_exact) {
        (Some(groups), Some(false)) => format!(
            "{} matches, at least {} distinct claims (counted in the best {})",
            response.total,
            groups,
            crate::query::GROUPS_COUNTED
        ),
        (Some(groups), _) => format!("{} matches, {} distinct claims", response.total, groups),
        (None, _) => format!("{} matches", response.total),
    };
    let total = style.paint(BOLD, &total);
    if response.relaxed {
        let note = style.paint(DIM, "(fewer records have every word; these have some)");
        writeln!(out, "{total} {note}")?;
    } else {
        writeln!(out, "{total}")?;
    }
    if !response.facets_exact {
        let note = "(facet counts estimated from a sample of the matches, marked ~; \
                    --exact-facets counts every one)";
        writeln!(out, "{}", style.paint(DIM, note))?;
    }
    let f = &response.facets;
    for (name, values) in [
        ("kind", &f.kind),
        ("source", &f.source),
        ("author", &f.author),
        ("date", &f.date),
        ("topic", &f.topic),
    ] {
        if !values.is_empty() {
            let counts = counts(values, response.facets_exact);
            writeln!(out, "  {:<7}{counts}", style.paint(DIM, name))?;
        }
    }
    Ok(())
}

/// `claim 12 · quote 3`, or when estimated, `claim ~12 · quote ~3`.
fn counts(values: &[FacetCount], exact: bool) -> String {
    let about = if exact { "" } else { "~" };
    let shown: Vec<String> = values
        .iter()
        .map(|v| {
            format!(
                "{} {about}{}",
                v.value.as_deref().unwrap_or("(none)"),
                v.count
            )
        })
        .collect();
    shown.join(" · ")
}

/// The one-line summary of `claimsearch index`.
pub fn index_summary<W: Write>(out: &mut W, report: &IndexReport) -> io::Result<()> {
    writeln!(
        out,
        "indexed {} pages, {} records in {:.2} s; {} skipped, {} warnings",
        report.pages,
        report.records,
        report.seconds,
        report.skipped.len(),
        report.warnings.len()
    )
}

/// The one-line summary of `claimsearch reindex`.
pub fn reindex_summary<W: Write>(out: &mut W, r: &ReindexReport) -> io::Result<()> {
    let rebuilt = if r.rebuilt { " (full rebuild)" } else { "" };
    let reverified = match r.reverified {
        0 => String::new(),
        n => format!(" ({} with quotes checked again)", thousands(n)),
    };
    writeln!(
        out,
        "added {}, updated {}, deleted {}, unchanged {}{reverified}, skipped {} — {:.2} s{rebuilt}",
        thousands(r.added),
        thousands(r.updated),
        thousands(r.deleted),
        thousands(r.unchanged),
        thousands(r.skipped.len()),
        r.seconds
    )
}

/// `48211` -> `48,211`.
fn thousands(n: usize) -> String {
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

/// `claimsearch stats` for people.
pub fn stats<W: Write>(out: &mut W, stats: &Stats, style: Style) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        style.paint(BOLD, &format!("{} records", stats.records))
    )?;
    writeln!(out, "  kinds    {}", counts(&stats.kinds, true))?;
    writeln!(out, "  pages    {}", stats.pages)?;
    writeln!(out, "  sources  {}", stats.sources)?;
    let date = |d: Option<crate::model::Date>| d.map_or("-".to_string(), |d| d.to_string());
    writeln!(
        out,
        "  dates    {} to {}",
        date(stats.first_date),
        date(stats.last_date)
    )?;
    writeln!(
        out,
        "  size     {:.1} MiB",
        stats.index_bytes as f64 / (1024.0 * 1024.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Date, Kind, Record};
    use crate::query::{Facets, Snippet};

    fn response() -> SearchResponse {
        SearchResponse {
            query: "uniform".into(),
            total: 1,
            relaxed: false,
            hits: vec![Hit {
                record: Record {
                    source: Some("LessWrong".into()),
                    date: Date::parse("2019-02-01"),
                    ..Record::plain(
                        "a.txt#claim-1".into(),
                        Kind::Claim,
                        "uniform bounds fail",
                        "A post",
                        "a.txt",
                    )
                },
                score: 1.0,
                snippet: Snippet {
                    fragment: "uniform bounds fail".into(),
                    highlighted: std::iter::once(0..7).collect(),
                },
                echoes: None,
            }],
            groups: None,
            groups_exact: None,
            facets_exact: true,
            facets: Facets {
                kind: vec![FacetCount {
                    value: Some("claim".into()),
                    count: 1,
                }],
                ..Facets::default()
            },
            corrections: Vec::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn corrections_warnings_and_a_page_past_the_end_are_said() {
        let mut response = response();
        response.corrections = vec![crate::query::Correction {
            from: "unifrom".into(),
            to: "uniform".into(),
        }];
        response.warnings = vec!["expected a closing quote at character 1".into()];
        let mut out = Vec::new();
        query(&mut out, &response, 0, Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "note: expected a closing quote at character 1\nshowing results for uniform\n"
            ),
            "{text}"
        );
        response.hits.clear();
        let mut out = Vec::new();
        query(&mut out, &response, 1, Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("offset 1 is past the last of 1 matches"),
            "{text}"
        );
        assert!(!text.contains("no matches"), "{text}");
    }

    #[test]
    fn plain_output_has_rank_snippet_byline_and_facets_without_escapes() {
        let mut out = Vec::new();
        query(&mut out, &response(), 0, Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("  1. claim       uniform bounds fail"));
        assert!(text.contains("A post — LessWrong · 2019-02-01"));
        assert!(text.contains("1 matches"));
        assert!(text.contains("kind   claim 1"));
        assert!(!text.contains('\x1b'));
        assert!(!text.contains("estimated"));
    }

    #[test]
    fn estimated_facet_counts_are_marked() {
        let mut response = response();
        response.facets_exact = false;
        let mut out = Vec::new();
        query(&mut out, &response, 0, Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("kind   claim ~1"), "{text}");
        assert!(text.contains("estimated from a sample"), "{text}");
        assert!(text.contains("--exact-facets"), "{text}");
    }

    #[test]
    fn colour_marks_the_matched_term() {
        let mut out = Vec::new();
        query(&mut out, &response(), 0, Style { color: true }).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\x1b[1;33muniform\x1b[0m bounds"));
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(48_211), "48,211");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn no_color_turns_colour_off() {
        assert!(Style::detect(true, None).color);
        assert!(!Style::detect(true, Some("1")).color);
        assert!(Style::detect(true, Some("")).color);
        assert!(!Style::detect(false, None).color);
    }
}
