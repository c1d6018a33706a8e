//! The recorder against the in-process emulator: what it writes replays
//! cleanly, is scrubbed, and leaves other files alone.

use clickhouse_cloud_conformance::runner::{Runner, cassette_files, relative_label};
use clickhouse_cloud_conformance::scenarios::{Target, record};
use clickhouse_cloud_conformance::scrub::find_secret_shape;
use clickhouse_cloud_conformance::spec::Spec;
use clickhouse_cloud_conformance::workspace_root;

#[test]
fn recorded_cassettes_replay_and_hand_written_ones_stay() {
    let out = tempfile::tempdir().unwrap();
    let hand_written = out.path().join("errors/500-internal.json");
    std::fs::create_dir_all(hand_written.parent().unwrap()).unwrap();
    std::fs::write(&hand_written, "not even JSON").unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let written = runtime
        .block_on(record(Target::Emulator, out.path()))
        .unwrap();
    assert_eq!(written.len(), 20);
    assert_eq!(
        std::fs::read_to_string(&hand_written).unwrap(),
        "not even JSON"
    );
    std::fs::remove_file(&hand_written).unwrap();

    let mut names: Vec<String> = cassette_files(out.path())
        .unwrap()
        .iter()
        .map(|file| relative_label(out.path(), file))
        .collect();
    names.sort();
    let committed = clickhouse_cloud_conformance::default_cassette_dir();
    for name in &names {
        assert!(committed.join(name).is_file(), "{name} is not in the suite");
        let text = std::fs::read_to_string(out.path().join(name)).unwrap();
        assert_eq!(find_secret_shape(&text), None, "{name}");
        assert!(
            !text.to_ascii_lowercase().contains("authorization"),
            "{name}"
        );
    }

    let spec = Spec::load_pinned(&workspace_root()).unwrap();
    let summary = Runner::new(Some(spec))
        .unwrap()
        .run_dir(out.path())
        .unwrap();
    let failures: Vec<String> = summary.failures().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(summary.closing_line(), "20 passed, 0 failed, 0 drifted");
}
