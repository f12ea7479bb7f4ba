//! The integration tests: one binary, one module per area, one fixture helper.

mod browser;
mod cli;
mod contract;
mod echoes;
mod export;
mod faults;
mod forgiving;
mod fuzz;
mod history;
mod hostile;
mod people;
mod provenance;
mod ranking;
mod reindex;
mod relevance;
mod serve;
mod util;
