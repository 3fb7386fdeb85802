//! `bench-synth --copies N --out DIR`: synthesizes the benchmark app and writes it, as one
//! whole process so `cargo xtask bench` can time it. Prints the resource count and, on
//! Linux, the process's peak resident set size (`peak_rss_kb=…`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut copies = 1usize;
    let mut out = std::path::PathBuf::from("target/bench-out");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--copies", Some(v)) => match v.parse() {
                Ok(n) => copies = n,
                Err(_) => return usage(&format!("--copies takes a number, not `{v}`")),
            },
            ("--out", Some(v)) => out = v.into(),
            _ => return usage(&format!("unexpected argument `{arg}`")),
        }
    }
    let assembly = match bench_synth::app(copies).and_then(|app| app.synth()) {
        Ok(a) => a,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = assembly.write(&out) {
        eprintln!("writing {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let resources: usize = assembly
        .manifest
        .stacks
        .iter()
        .map(|s| s.resource_count)
        .sum();
    println!(
        "resources={resources} peak_rss_kb={}",
        peak_rss_kb().unwrap_or(0)
    );
    // The process ends here: freeing the templates piece by piece would only cost time.
    std::mem::forget(assembly);
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: bench-synth --copies N --out DIR");
    ExitCode::from(2)
}

/// `VmHWM` of this process, in KiB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
