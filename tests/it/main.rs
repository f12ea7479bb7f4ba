//! The integration tests: one binary, one module per area, one fixture helper.

mod browser;
mod cli;
mod contract;
mod export;
mod faults;
mod fuzz;
mod hostile;
mod provenance;
mod reindex;
mod relevance;
mod serve;
mod util;
