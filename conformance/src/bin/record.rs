//! `record [--live] [--out DIR]`: runs the scripted scenarios against an
//! in-process emulator (default) or the live service and writes scrubbed
//! cassettes under DIR (default conformance/cassettes). Only the recorded
//! files are (over)written; hand-written cassettes stay.

use std::path::PathBuf;
use std::process::ExitCode;

use clickhouse_cloud_conformance::default_cassette_dir;
use clickhouse_cloud_conformance::runner::relative_label;
use clickhouse_cloud_conformance::scenarios::{ENV_ORG_ID, Target, record};

const USAGE: &str = "usage: record [--live] [--out DIR]

Records one cassette per scripted call under DIR (default
conformance/cassettes). Without --live it starts an in-process emulator.
With --live it calls the real service: credentials from
CLICKHOUSE_CLOUD_API_KEY / CLICKHOUSE_CLOUD_API_SECRET, the organization
from CLICKHOUSE_ORG_ID, the base URL from CLICKHOUSE_API_URL when set. It
creates two keys, and deletes them again. Key secrets and key IDs are
scrubbed from every cassette.";

fn main() -> ExitCode {
    let mut target = Target::Emulator;
    let mut out = default_cassette_dir();
    let mut raw = std::env::args_os().skip(1);
    while let Some(arg) = raw.next() {
        match arg.to_str() {
            Some("--live") => target = Target::Live,
            Some("--out") => match raw.next() {
                Some(dir) => out = PathBuf::from(dir),
                None => {
                    eprintln!("record: --out needs a value\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            Some("-h" | "--help") => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("record: unknown argument {arg:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if target == Target::Live && std::env::var_os(ENV_ORG_ID).is_none() {
        eprintln!("record: --live needs {ENV_ORG_ID}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("record: no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(record(target, &out)) {
        Ok(files) => {
            for file in &files {
                println!("wrote {}", relative_label(&out, file));
            }
            println!("{} cassettes written under {}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("record: {error}");
            ExitCode::FAILURE
        }
    }
}
