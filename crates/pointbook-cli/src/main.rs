//! `pointbook`: replay loyalty programs over event files, quote and explain purchases, and
//! run a demo on a bundled program and a generated history. Parsing and printing only: every
//! rule lives in the `pointbook` core.

mod html;
mod ingest;
mod report;

use clap::{Args, Parser, Subcommand};
use pointbook::analytics::{self, Analysis, Analyzer, Options};
use pointbook::event::Quote;
use pointbook::feed::{Line, Lines, Rejection};
use pointbook::{Book, Event, Outcome, Program};
use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: a book is millions of small, long-lived
/// allocations between short-lived ones, where glibc's allocator spent a quarter of the time of
/// applying an event (benches/RESULTS.md). The core itself sets no allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Pointbook: an embeddable loyalty-program engine, exact to the point.
#[derive(Parser)]
#[command(name = "pointbook", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bundled program over a generated history and print a short report.
    Demo(DemoArgs),
    /// Print every member's final balance as a JSON array sorted by member.
    Balances(BalancesArgs),
    /// Print one JSON outcome per event (JSON Lines), duplicates and rejections included.
    Replay(ReplayArgs),
    /// Print what a purchase would do (JSON), against the book built from the events.
    Quote(QuoteArgs),
    /// Explain a purchase as a readable table: a quoted one, or an applied one by id.
    Explain(ExplainArgs),
    /// Print a member's tier progress (JSON).
    Progress(ProgressArgs),
    /// Validate a program and print its canonical JSON and fingerprint.
    Check(CheckArgs),
    /// Write a deterministic synthetic history for a program (JSON Lines).
    Generate(GenerateArgs),
    /// Analyse a history: liability and breakage per period, tier mix, member metrics (JSON).
    Analyze(AnalyzeArgs),
    /// Replay one history under two programs and show the differences side by side.
    Compare(CompareArgs),
    /// Write a self-contained HTML report with charts (no scripts, no network).
    Report(ReportArgs),
    /// Apply an events file to a durable store (SQLite), creating it if missing; run again
    /// after a crash, it applies only what is missing.
    Ingest(ingest::IngestArgs),
}

#[derive(Args)]
struct AnalysisArgs {
    /// Reporting period: week, month, quarter or year (local to the program).
    #[arg(long, default_value = "month")]
    period: String,
    /// Analysis instant (RFC 3339); default and minimum: the last event's.
    #[arg(long)]
    as_of: Option<String>,
    /// A member is active with a purchase in this many days before an instant.
    #[arg(long, default_value_t = 90)]
    active_days: u32,
    /// Churn risk: days since the last purchase beyond this percentile of the member's gaps.
    #[arg(long, default_value_t = 90)]
    churn_percentile: u32,
}

#[derive(Args)]
struct AnalyzeArgs {
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    options: AnalysisArgs,
    /// Leave out the per-member rows.
    #[arg(long)]
    no_members: bool,
}

#[derive(Args)]
struct CompareArgs {
    /// Program A, then program B: `--program A.toml --program B.toml`.
    #[arg(long, required = true, num_args = 1)]
    program: Vec<PathBuf>,
    /// Events file (JSON Lines; read once per program).
    #[arg(long)]
    events: PathBuf,
    #[command(flatten)]
    options: AnalysisArgs,
    /// How many of the most affected members to list.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ReportArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// A second program to compare with (the what-if section).
    #[arg(long)]
    compare: Option<PathBuf>,
    #[command(flatten)]
    options: AnalysisArgs,
    /// How many of the most affected members to list.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Output HTML file.
    #[arg(long)]
    out: PathBuf,
}

/// Where a book comes from: a program and its history, or a store that holds both.
#[derive(Args)]
struct SourceArgs {
    /// Program file (TOML or JSON).
    #[arg(long, required_unless_present = "db")]
    program: Option<PathBuf>,
    /// Events file (JSON Lines); `-` reads standard input.
    #[arg(long, required_unless_present = "db")]
    events: Option<PathBuf>,
    /// A store (`pointbook ingest`) in place of `--program` and `--events`: its program, and
    /// its journal as the history (the events it accepted, in order).
    #[arg(long, conflicts_with_all = ["program", "events"])]
    db: Option<PathBuf>,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Exit with status 1 if any event is rejected.
    #[arg(long)]
    strict: bool,
}

#[derive(Args)]
struct BalancesArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// Replay on this many threads, by groups of linked members (the same balances; only
    /// unreadable lines are reported one by one, other rejections are counted).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

#[derive(Args)]
struct QuoteArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// The purchase as JSON (wire format, `type` optional), or `@file`.
    #[arg(long)]
    purchase: String,
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// A purchase to quote, as JSON or `@file`.
    #[arg(long, conflicts_with = "event")]
    purchase: Option<String>,
    /// The id of an applied event to explain.
    #[arg(long)]
    event: Option<String>,
}

#[derive(Args)]
struct ProgressArgs {
    #[command(flatten)]
    replay: ReplayArgs,
    /// Member id.
    #[arg(long)]
    member: String,
    /// Instant (RFC 3339); default: the book's clock.
    #[arg(long)]
    at: Option<String>,
}

#[derive(Args)]
struct CheckArgs {
    /// Program file (TOML or JSON).
    #[arg(long)]
    program: PathBuf,
}

#[derive(Args)]
struct GenerateArgs {
    /// Program file; default: the bundled Bean & Leaf program.
    #[arg(long)]
    program: Option<PathBuf>,
    /// Members to enroll.
    #[arg(long, default_value_t = 1000)]
    members: usize,
    /// Approximate number of events.
    #[arg(long, default_value_t = 20000)]
    events: usize,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Days the history spans (from 2026-01-01).
    #[arg(long, default_value_t = 730)]
    days: u32,
    /// Output file; default: standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    /// Program file; default: the bundled Bean & Leaf program.
    #[arg(long)]
    program: Option<PathBuf>,
    /// Members in the generated history.
    #[arg(long, default_value_t = 3000)]
    members: usize,
    /// Approximate number of events.
    #[arg(long, default_value_t = 60000)]
    events: usize,
    /// Seed of the generated history.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("pointbook: {message}");
            ExitCode::from(2)
        }
    }
}

type CliResult<T> = Result<T, String>;

fn run(cli: Cli) -> CliResult<ExitCode> {
    match cli.command {
        Command::Demo(a) => {
            let program = load_program_or_default(a.program.as_ref())?;
            report::demo(program, a.members, a.events, a.seed, a.json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Balances(BalancesArgs { replay: a, threads }) => {
            let (book, rejected) = if threads > 1 {
                replay_parallel(&a, threads)?
            } else {
                replay(&a, &mut |_, _| {})?
            };
            let mut out = BufWriter::new(std::io::stdout().lock());
            let balances = book.balances();
            let io = |e: std::io::Error| e.to_string();
            writeln!(out, "[").map_err(io)?;
            for (i, b) in balances.iter().enumerate() {
                let sep = if i + 1 < balances.len() { "," } else { "" };
                writeln!(out, "{}{sep}", to_json(b)).map_err(io)?;
            }
            writeln!(out, "]").map_err(io)?;
            out.flush().map_err(io)?;
            Ok(exit(a.strict, rejected))
        }
        Command::Replay(a) => {
            if a.source.db.is_some() {
                return Err(
                    "replay prints each event's outcome: give --program and --events".into(),
                );
            }
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            let mut failed = None;
            let (_, rejected) = replay(&a, &mut |_, result| {
                let text = match result {
                    Ok(o) => to_json(o),
                    Err(r) => r.to_json(),
                };
                if let Err(e) = writeln!(out, "{text}") {
                    failed.get_or_insert(e.to_string());
                }
            })?;
            out.flush().map_err(|e| e.to_string())?;
            if let Some(e) = failed {
                return Err(e);
            }
            Ok(exit(a.strict, rejected))
        }
        Command::Quote(a) => {
            let (book, _) = replay(&a.replay, &mut |_, _| {})?;
            let outcome = quote(&book, &a.purchase)?;
            println!("{}", to_json(&outcome));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(a) => {
            if a.replay.source.db.is_some() && a.event.is_some() {
                return Err(
                    "with --db, explain quotes a --purchase; --event needs the events file".into(),
                );
            }
            let mut applied: Option<Outcome> = None;
            let wanted = a.event.clone();
            let (book, _) = replay(&a.replay, &mut |_, result| {
                if let (Ok(o), Some(w)) = (result, wanted.as_deref()) {
                    if o.event.as_str() == w && !o.duplicate {
                        applied = Some(o.clone());
                    }
                }
            })?;
            let outcome = match (&a.purchase, &a.event) {
                (Some(p), _) => quote(&book, p)?,
                (None, Some(id)) => {
                    applied.ok_or_else(|| format!("no applied event with id {id}"))?
                }
                (None, None) => return Err("give --purchase or --event".into()),
            };
            print!("{}", report::explain_table(&outcome));
            Ok(ExitCode::SUCCESS)
        }
        Command::Progress(a) => {
            let (book, _) = replay(&a.replay, &mut |_, _| {})?;
            let at = match &a.at {
                Some(t) => t.parse().map_err(|e| format!("--at {t}: {e}"))?,
                None => book.clock().ok_or("the book has no events")?,
            };
            let p = book
                .progress(&a.member.as_str().into(), at)
                .map_err(|e| e.to_string())?;
            println!("{}", to_json(&p));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(a) => {
            let program = load_program(&a.program)?;
            println!("{}", program.to_json());
            eprintln!("ok: fingerprint {}", program.fingerprint());
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate(a) => {
            let program = load_program_or_default(a.program.as_ref())?;
            let config = pointbook_synth::Config {
                members: a.members,
                events: a.events,
                seed: a.seed,
                days: a.days,
                ..Default::default()
            };
            let text = pointbook_synth::to_jsonl(&pointbook_synth::generate(&program, &config));
            match a.out {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => std::io::stdout()
                    .write_all(text.as_bytes())
                    .map_err(|e| e.to_string())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze(a) => {
            let options = options(&a.options)?;
            let history = History::of(&a.source)?;
            let mut analysis = analyze(history.program()?, &history, options)?;
            if a.no_members {
                analysis.members.clear();
            }
            println!("{}", to_json(&analysis));
            Ok(ExitCode::SUCCESS)
        }
        Command::Compare(a) => {
            let [pa, pb] = a.program.as_slice() else {
                return Err("give exactly two programs: --program A --program B".into());
            };
            if a.events.as_os_str() == "-" {
                return Err("compare reads the events once per program: give a file".into());
            }
            let options = options(&a.options)?;
            let history = History::File(&a.events);
            let x = analyze(load_program(pa)?, &history, options)?;
            let y = analyze(load_program(pb)?, &history, options)?;
            let c = analytics::compare(&x, &y, a.top);
            if a.json {
                println!("{}", to_json(&c));
            } else {
                print!("{}", report::comparison_table(&c));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest(a) => ingest::ingest(&a),
        Command::Report(a) => {
            let options = options(&a.options)?;
            let history = History::of(&a.source)?;
            let program = history.program()?;
            let x = analyze(program.clone(), &history, options)?;
            let other = match &a.compare {
                Some(p) => {
                    let y = analyze(load_program(p)?, &history, options)?;
                    let c = analytics::compare(&x, &y, a.top);
                    Some((y, c))
                }
                None => None,
            };
            let page = html::report(&program, &x, other.as_ref().map(|(y, c)| (y, c)));
            std::fs::write(&a.out, page).map_err(|e| format!("{}: {e}", a.out.display()))?;
            eprintln!("wrote {}", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn options(a: &AnalysisArgs) -> CliResult<Options> {
    let period = Options::period_named(&a.period).map_err(|e| format!("--period: {e}"))?;
    let as_of = match &a.as_of {
        Some(t) => Some(t.parse().map_err(|e| format!("--as-of {t}: {e}"))?),
        None => None,
    };
    Ok(Options {
        period,
        active_days: a.active_days,
        churn_percentile: a.churn_percentile,
        as_of,
    })
}

/// Where a history comes from: a program and an events file, or a store's journal.
enum History<'a> {
    /// An events file (the program given apart).
    File(&'a PathBuf),
    /// A store: its program, and its journal as the history.
    Store(&'a PathBuf),
    /// A program file and an events file.
    Files(&'a PathBuf, &'a PathBuf),
}

impl<'a> History<'a> {
    fn of(source: &'a SourceArgs) -> CliResult<History<'a>> {
        match (&source.program, &source.events, &source.db) {
            (_, _, Some(db)) => Ok(History::Store(db)),
            (Some(program), Some(events), None) => Ok(History::Files(program, events)),
            _ => Err("give --program and --events, or --db".into()),
        }
    }

    /// The history's own program (the store's, or the program file's).
    fn program(&self) -> CliResult<Program> {
        match self {
            History::Store(db) => {
                pointbook_store::read_program(db).map_err(|e| format!("{}: {e}", db.display()))
            }
            History::Files(program, _) => load_program(program),
            History::File(_) => Err("this history has no program of its own".into()),
        }
    }
}

/// Replays a history into an analyzer; rejections go to stderr.
fn analyze(program: Program, history: &History<'_>, options: Options) -> CliResult<Analysis> {
    let mut analyzer = Analyzer::new(program, options).map_err(|e| e.to_string())?;
    match history {
        History::File(events) | History::Files(_, events) => {
            feed(events, &mut |e| analyzer.apply_read(e), &mut |_, _| {})?;
        }
        History::Store(db) => {
            // A rejection (under another program than the store's) names its journal entry.
            let (mut stderr, mut entry) = (std::io::stderr().lock(), 0);
            pointbook_store::read_history(db, &mut |e| {
                entry += 1;
                if let Err(error) = analyzer.apply(&e) {
                    let r = Rejection::new(entry, Some(&e.to_json()), error);
                    let _ = writeln!(stderr, "{}", r.to_json());
                }
            })
            .map_err(|e| format!("{}: {e}", db.display()))?;
        }
    }
    Ok(analyzer.finish())
}

fn exit(strict: bool, rejected: usize) -> ExitCode {
    if strict && rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn load_program(path: &PathBuf) -> CliResult<Program> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Program::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn load_program_or_default(path: Option<&PathBuf>) -> CliResult<Program> {
    match path {
        Some(p) => load_program(p),
        None => Program::from_toml(pointbook::samples::BEAN_AND_LEAF).map_err(|e| e.to_string()),
    }
}

type Seen<'a> = dyn FnMut(usize, Result<&Outcome, &Rejection>) + 'a;

/// Replays an events file; rejections go to stderr (and to `seen`). Returns the book and the
/// number of rejected events.
fn replay(a: &ReplayArgs, seen: &mut Seen<'_>) -> CliResult<(Book, usize)> {
    let history = History::of(&a.source)?;
    let events = match history {
        History::Store(db) => {
            let (book, _) =
                pointbook_store::read(db).map_err(|e| format!("{}: {e}", db.display()))?;
            return Ok((book, 0));
        }
        History::Files(_, events) | History::File(events) => events,
    };
    let mut book = Book::new(history.program()?);
    let rejected = feed(events, &mut |e| e.and_then(|e| book.apply(&e)), seen)?;
    Ok((book, rejected))
}

/// Replays an events file on `threads` threads (see `pointbook::parallel::replay_lines`),
/// reading the file again rather than holding its events. Lines that are not events go to
/// stderr. Returns the book and the number of rejected events.
fn replay_parallel(a: &ReplayArgs, threads: usize) -> CliResult<(Book, usize)> {
    let (Some(program), Some(path)) = (&a.source.program, &a.source.events) else {
        return replay(a, &mut |_, _| {});
    };
    let program = load_program(program)?;
    // Standard input can be read once only: it is kept, as text, for the readings.
    let stdin = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        Some(bytes)
    } else {
        None
    };
    let mut read = |each: &mut dyn FnMut(&[u8])| -> CliResult<()> {
        if let Some(bytes) = &stdin {
            bytes.chunks(1 << 20).for_each(&mut *each);
            return Ok(());
        }
        let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut chunk = vec![0; 1 << 20];
        loop {
            match file.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => each(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
    };
    let r = pointbook::parallel::replay_lines(&program, threads, &mut read)?;
    let mut stderr = std::io::stderr().lock();
    for (line, e) in r.unreadable {
        let _ = writeln!(stderr, "{}", Rejection::new(line, None, e).to_json());
    }
    let how = r
        .fallback
        .map_or_else(String::new, |why| format!(" (one thread: {why})"));
    let _ = writeln!(
        stderr,
        "replayed {} events on {} thread(s){how}: {} rejected",
        r.lines, r.threads, r.rejected
    );
    Ok((r.book, r.rejected))
}

/// Applies each line of an events file (`-`: standard input), read in chunks as it comes;
/// rejections go to stderr (and to `seen`). Returns the number of rejected events.
fn feed(
    events: &PathBuf,
    apply: &mut dyn FnMut(pointbook::Result<Event>) -> pointbook::Result<Outcome>,
    seen: &mut Seen<'_>,
) -> CliResult<usize> {
    let progress = std::io::stderr().is_terminal();
    let mut rejected = 0;
    let mut stderr = std::io::stderr().lock();
    let mut each = |line: Line<'_>| {
        match apply(line.event()) {
            Ok(o) => seen(line.number, Ok(&o)),
            Err(e) => {
                rejected += 1;
                let r = Rejection::new(line.number, line.text(), e);
                let _ = writeln!(stderr, "{}", r.to_json());
                seen(line.number, Err(&r));
            }
        }
        if progress && line.number.is_multiple_of(100_000) {
            let _ = write!(stderr, "\rreplayed {} lines", line.number);
        }
    };
    feed_lines(events, &mut each)?;
    if progress {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    Ok(rejected)
}

/// Hands `each` every non-blank line of an events file (`-`: standard input), read in
/// chunks as it comes.
fn feed_lines(events: &PathBuf, each: &mut dyn FnMut(Line<'_>)) -> CliResult<()> {
    let mut reader: Box<dyn BufRead> = if events.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(events).map_err(|e| format!("{}: {e}", events.display()))?;
        Box::new(std::io::BufReader::with_capacity(1 << 20, f))
    };
    let mut lines = Lines::default();
    loop {
        let chunk = reader
            .fill_buf()
            .map_err(|e| format!("{}: {e}", events.display()))?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        lines.push(chunk, each);
        reader.consume(n);
    }
    lines.finish(each);
    Ok(())
}

fn quote(book: &Book, arg: &str) -> CliResult<Outcome> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => arg.to_owned(),
    };
    let quote = Quote::from_json(&text).map_err(|e| format!("--purchase: {e}"))?;
    book.quote_order(&quote).map_err(|e| e.to_string())
}
