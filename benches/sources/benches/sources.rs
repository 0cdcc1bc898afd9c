//! `cargo bench -p ferry-sources-bench`: messages per second from each
//! broker of this machine to stored jobs, and to no-op Wasm jobs run.

use ferry::triggers::sources::{SOURCE_KINDS, SourceKind};
use ferry_sources_bench::{Mode, build_connector, run};

fn main() -> anyhow::Result<()> {
    let messages: usize = std::env::var("FERRY_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("FERRY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let kinds: Vec<SourceKind> = match std::env::var("FERRY_BENCH_TYPES") {
        Ok(list) => list
            .split(',')
            .map(|k| SourceKind::parse(k.trim()))
            .collect::<Result<_, _>>()?,
        Err(_) => SOURCE_KINDS.to_vec(),
    };
    let built = build_connector()?;
    let rt = tokio::runtime::Runtime::new()?;
    println!("{messages} messages per run, best of {runs} runs; Ferry's store: SQLite");
    println!(
        "{:<10} {:>16} {:>16}",
        "type", "stored msgs/s", "run msgs/s"
    );
    for kind in kinds {
        let mut rates = Vec::new();
        for mode in [Mode::Stored, Mode::Run] {
            let mut best: Option<std::time::Duration> = None;
            for i in 0..runs {
                let tag = format!("{kind}_{}_{i}", mode.label());
                let took = rt.block_on(run(&built, kind, messages, mode, &tag))?;
                best = Some(best.map_or(took, |b| b.min(took)));
            }
            rates.push(messages as f64 / best.unwrap_or_default().as_secs_f64());
        }
        println!(
            "{:<10} {:>16.0} {:>16.0}",
            kind.as_str(),
            rates[0],
            rates[1]
        );
    }
    Ok(())
}
