//! What a search asks for, with its defaults and limits, and the checks
//! every front end (the library, the command line, HTTP) runs before any
//! work is done.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Date, Kind};

/// Hits returned when a request does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// The most hits one request may ask for (`limit`).
pub const MAX_LIMIT: usize = 10_000;
/// The most hits one HTTP request may ask for: a server answers many
/// clients, and a page of 100 is more than a person reads.
pub const MAX_HTTP_LIMIT: usize = 100;
/// The most hits a request may skip (`offset`).
pub const MAX_OFFSET: usize = 100_000;
/// The longest query text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 2_000;

/// How the `date` facet groups matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateBucket {
    /// `2026`
    #[default]
    Year,
    /// `2026-04`
    Month,
    /// `2026-04-26`
    Day,
}

impl std::str::FromStr for DateBucket {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "year" => Ok(DateBucket::Year),
            "month" => Ok(DateBucket::Month),
            "day" => Ok(DateBucket::Day),
            other => Err(format!(
                "unknown date bucket '{other}' (year, month or day)"
            )),
        }
    }
}

/// What to search for. Filters combine with AND; several values of one list
/// filter combine with OR.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// Query text: words, `"phrases"`, `-excluded`, `OR`, `field:value`; `*` matches everything.
    pub query: String,
    /// Hits to return (1 to [`MAX_LIMIT`]; [`MAX_HTTP_LIMIT`] over HTTP).
    pub limit: usize,
    /// Hits to skip, for paging.
    pub offset: usize,
    /// Keep records whose source is one of these (case-insensitive).
    pub sources: Vec<String>,
    /// Keep records with one of these topics.
    pub topics: Vec<String>,
    /// Keep records of one of these kinds.
    pub kinds: Vec<Kind>,
    /// Keep records by one of these authors: a byline as written, or one of its
    /// authors by full name or by last name alone, ignoring case and accents.
    pub authors: Vec<String>,
    /// Keep records of this thread, or items that appear in it.
    pub thread: Option<String>,
    /// Keep records dated on or after this day.
    pub since: Option<Date>,
    /// Keep records dated on or before this day.
    pub until: Option<Date>,
    /// Grouping of the `date` facet.
    pub date_bucket: DateBucket,
    /// Include records of older versions of threads.
    pub all_versions: bool,
    /// Keep only quotes found in the corpus's raw text.
    pub verified: bool,
    /// One hit per claim: records that make the same claim are a group, and
    /// the best-ranked member stands for it (see [`crate::echo`]).
    pub collapse: bool,
    /// Count the facets over every match, however many: slower for a broad
    /// search, whose facets are otherwise estimated past
    /// [`crate::query::FACETS_EXACT_UP_TO`] matches (`facets_exact` says which).
    pub exact_facets: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            limit: DEFAULT_LIMIT,
            offset: 0,
            sources: Vec::new(),
            topics: Vec::new(),
            kinds: Vec::new(),
            authors: Vec::new(),
            thread: None,
            since: None,
            until: None,
            date_bucket: DateBucket::Year,
            all_versions: false,
            verified: false,
            collapse: false,
            exact_facets: false,
        }
    }
}

impl SearchRequest {
    /// A request for `query` with default settings (10 hits, newest versions only).
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            ..SearchRequest::default()
        }
    }

    /// True for `*`, every record: listed newest first, not by score.
    pub(crate) fn lists_everything(&self) -> bool {
        self.query.trim() == "*"
    }

    /// Checks bounds and consistency before any work is done, naming
    /// parameters as the library does (`since`, `limit`).
    pub fn validate(&self) -> Result<()> {
        self.validate_for(Front::Library)
    }

    /// [`SearchRequest::validate`], naming parameters and applying the
    /// limits of `front`.
    pub fn validate_for(&self, front: Front) -> Result<()> {
        if self.query.trim().is_empty() {
            return Err(Error::BadQuery(
                "the query is empty (use * to match everything)".into(),
            ));
        }
        if self.query.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::BadQuery(format!(
                "the query is longer than {MAX_QUERY_CHARS} characters"
            )));
        }
        let max_limit = front.max_limit();
        if self.limit == 0 || self.limit > max_limit {
            return Err(Error::BadRequest(format!(
                "{} must be between 1 and {max_limit}",
                front.name("limit")
            )));
        }
        if self.offset > MAX_OFFSET {
            return Err(Error::BadRequest(format!(
                "{} must be at most {MAX_OFFSET}",
                front.name("offset")
            )));
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since > until {
                return Err(Error::BadRequest(format!(
                    "{} {since} is after {} {until}",
                    front.name("since"),
                    front.name("until")
                )));
            }
        }
        Ok(())
    }
}

/// Who asks: each front end names parameters its own way in messages, and
/// HTTP answers smaller pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// A program linking the crate: `since`, `limit`.
    Library,
    /// The command line: `--since`, `--limit`.
    Cli,
    /// The HTTP server: the query parameters `since`, `limit`.
    Http,
}

impl Front {
    /// How this front end spells the parameter `name` (the library's name).
    pub fn name(self, name: &str) -> String {
        match self {
            Front::Cli => format!("--{}", name.replace('_', "-")),
            Front::Library | Front::Http => name.to_string(),
        }
    }

    /// The most hits one request may ask for.
    pub fn max_limit(self) -> usize {
        match self {
            Front::Http => MAX_HTTP_LIMIT,
            Front::Library | Front::Cli => MAX_LIMIT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(request: &SearchRequest, front: Front) -> String {
        request.validate_for(front).unwrap_err().to_string()
    }

    #[test]
    fn each_front_end_reads_about_its_own_parameters_and_limits() {
        let reversed = SearchRequest {
            since: Date::parse("2021-01-01"),
            until: Date::parse("2020-01-01"),
            ..SearchRequest::new("x")
        };
        assert!(message(&reversed, Front::Cli)
            .contains("--since 2021-01-01 is after --until 2020-01-01"));
        assert!(
            message(&reversed, Front::Http).contains("since 2021-01-01 is after until 2020-01-01")
        );
        assert!(!message(&reversed, Front::Http).contains("--"));
        let large = SearchRequest {
            limit: 500,
            ..SearchRequest::new("x")
        };
        assert!(large.validate_for(Front::Cli).is_ok());
        assert!(message(&large, Front::Http).contains("limit must be between 1 and 100"));
        let far = SearchRequest {
            offset: MAX_OFFSET + 1,
            ..SearchRequest::new("x")
        };
        assert!(message(&far, Front::Cli).contains("--offset must be at most 100000"));
        assert_eq!(SearchRequest::new("x").limit, DEFAULT_LIMIT);
    }
}
