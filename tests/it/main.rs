//! The integration tests: one binary, one module per area, one fixture helper.

mod cli;
mod contract;
mod faults;
mod fuzz;
mod hostile;
mod reindex;
mod provenance;
mod relevance;
mod serve;
mod util;
