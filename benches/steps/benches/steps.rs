//! `cargo bench -p ferry-steps-bench`: items per second through an item
//! step (chunks of 100 and 1 000) against the same loop as a plain job.

use ferry_steps_bench::{Mode, build_connector, drop_schema, fresh_schema, run};

fn main() -> anyhow::Result<()> {
    let items: usize = std::env::var("FERRY_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runs: usize = std::env::var("FERRY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let postgres = std::env::var("FERRY_BENCH_POSTGRES").ok();
    let built = build_connector()?;
    let rt = tokio::runtime::Runtime::new()?;
    let mut databases = vec![("SQLite", None)];
    if let Some(url) = &postgres {
        databases.push(("PostgreSQL", Some(url.clone())));
    }
    println!("{items} items, best of {runs} runs");
    for (db, base) in databases {
        let mut plain = None;
        for mode in [Mode::Plain, Mode::Steps(100), Mode::Steps(1000)] {
            let mut best = None;
            for i in 0..runs {
                let schema = format!("bench_steps_{}_{i}", std::process::id());
                let url = match &base {
                    Some(base) => Some(rt.block_on(fresh_schema(base, &schema))?),
                    None => None,
                };
                let took = rt.block_on(run(&built, url, items, mode))?;
                if let Some(base) = &base {
                    rt.block_on(drop_schema(base, &schema))?;
                }
                best = Some(best.map_or(took, |b: std::time::Duration| b.min(took)));
            }
            let took = best.unwrap_or_default();
            let rate = items as f64 / took.as_secs_f64();
            let plain_rate = *plain.get_or_insert(rate);
            println!(
                "{db:<10} {:<22} {:>8.0} ms {:>9.0} items/s  x{:.2} vs plain job",
                mode.label(),
                took.as_secs_f64() * 1000.0,
                rate,
                rate / plain_rate
            );
        }
    }
    Ok(())
}
