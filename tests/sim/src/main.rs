//! `make sim SEEDS=N [FIRST=S] [STEPS=K]`: runs seeds `S..S+N` of the simulation, prints each
//! failing seed with the invariant it broke and its trace, and as its last line
//! `sim: N seeds, S steps, V invariant violations`. Exits 1 if any seed failed.

fn number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn main() {
    let seeds = number("SEEDS", 200);
    let first = number("FIRST", 1);
    let steps = number("STEPS", 300) as usize;
    let started = std::time::Instant::now();
    let (mut total_steps, mut violations, mut failed) = (0, 0, 0);
    for seed in first..first + seeds {
        let outcome = notes_sim::run(&notes_sim::Config { steps, ..notes_sim::Config::seeded(seed) });
        total_steps += outcome.steps;
        if !outcome.violations.is_empty() {
            failed += 1;
            violations += outcome.violations.len();
            println!(
                "seed {seed}: {} violations (replay: make sim SEEDS=1 FIRST={seed} STEPS={steps})",
                outcome.violations.len()
            );
            for violation in outcome.violations.iter().take(5) {
                println!("  {violation}");
            }
            let first_step = outcome.violations[0].step;
            println!("  trace up to step {first_step}:");
            for line in outcome.trace.iter().filter(|l| {
                l.split_whitespace().next().and_then(|s| s.parse::<usize>().ok()).is_some_and(|s| s <= first_step)
            }) {
                println!("    {line}");
            }
        }
    }
    eprintln!("{failed} of {seeds} seeds failed in {:.1} s", started.elapsed().as_secs_f64());
    println!("sim: {seeds} seeds, {total_steps} steps, {violations} invariant violations");
    if failed > 0 {
        std::process::exit(1);
    }
}
