#![allow(dead_code)]
//! Fixture helper: a temporary corpus and index, and the binary run against them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder holding `corpus/` and `index/`.
pub struct Fixture {
    dir: tempfile::TempDir,
}

/// What a run of the binary printed and returned.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("corpus")).unwrap();
        Fixture { dir }
    }

    pub fn corpus(&self) -> PathBuf {
        self.dir.path().join("corpus")
    }

    pub fn index(&self) -> PathBuf {
        self.dir.path().join("index")
    }

    /// Writes `contents` at `rel` under the corpus, creating folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.corpus().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.corpus().join(rel)).unwrap();
    }

    /// Runs `claimsearch ARGS` in the fixture folder, with the corpus and
    /// index given through the environment.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run claimsearch");
        run_of(output)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_claimsearch"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("CLAIMSEARCH_CORPUS", self.corpus())
            .env("CLAIMSEARCH_INDEX", self.index())
            .env_remove("NO_COLOR");
        cmd
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "claimsearch {args:?} failed:\n{}", run.stderr);
        run
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

pub fn run_of(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// An extraction page in the text renderer's layout.
pub fn extraction(
    title: &str,
    meta: &str,
    topics: &str,
    claims: &[&str],
    quotes: &[&str],
) -> String {
    let mut page = format!(
        "The Information Machine\n\n{title}\n\n{meta}\n\nOpen original ↗\n\nAppears in\n\nExtraction\n\nTopics: {topics}\n\nClaims\n\n"
    );
    for claim in claims {
        page.push_str(&format!("  • {claim}\n"));
    }
    page.push_str("\nKey quotes\n\n");
    for quote in quotes {
        page.push_str(&format!("{quote}\n"));
    }
    page
}

/// An index whose schema is not this version's, as an older claimsearch left it.
pub fn index_of_another_version(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let mut schema = tantivy::schema::Schema::builder();
    schema.add_text_field("text", tantivy::schema::TEXT | tantivy::schema::STORED);
    std::fs::create_dir_all(dir).unwrap();
    let index = tantivy::Index::create_in_dir(dir, schema.build()).unwrap();
    let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    writer.commit().unwrap();
}

/// The five real pages in `../shared/seeds`, or `None` after printing that
/// the test is skipped (a clone without `../shared`): the crate's own unit
/// tests use the same file.
#[path = "../../src/seeds.rs"]
mod seeds;
pub(crate) use seeds::dir as seeds_dir;
