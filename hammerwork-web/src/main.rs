//! `hammerwork-web --database-url URL --bind 127.0.0.1:8080`: the web API
//! over the database the URL names. `hammerwork-web hash-secret` prints the
//! argon2 hash of a token or password read from standard input, for the
//! configuration file.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hammerwork::AnyStorage;
use hammerwork_web::{AuthConfig, WebConfig};
use serde::Deserialize;

/// Hammerwork's web API: jobs, queues, workflows and spawn trees over HTTP.
#[derive(Debug, Parser)]
#[command(
    name = "hammerwork-web",
    version,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The database: postgres://..., mysql://... (or mariadb://...), or
    /// sqlite://FILE.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where to listen. Any address other than loopback needs credentials
    /// in --config: serving other hosts an open API is refused.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// A TOML file with `[[auth.tokens]]`, `[[auth.users]]` (argon2 hashes
    /// from `hammerwork-web hash-secret`) and `cors_origins`.
    #[arg(long, env = "HAMMERWORK_WEB_CONFIG")]
    config: Option<PathBuf>,
    /// A browser origin allowed to call the API (CORS), in addition to the
    /// file's `cors_origins`. Repeatable.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Create or upgrade Hammerwork's tables before serving.
    #[arg(long)]
    migrate: bool,
    /// How many seconds the queue counts of `GET /api/queues` and the live
    /// events may be old (they are read again no more often than every
    /// twenty times the last read took).
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = seconds)]
    queues_max_age: f64,
}

/// A number of seconds from 0 to a day.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0 to 86400"
        )),
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the argon2 hash of the token or password on standard input
    /// (one line), for `hash = "..."` in the configuration file.
    HashSecret,
}

/// The configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    auth: AuthConfig,
    #[serde(default)]
    cors_origins: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::HashSecret) = args.command {
        return hash_secret();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (config, database_url) = match settings(&args) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(database_url, args.bind, args.migrate, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The server's configuration from the flags and the file, or why it must
/// not start.
fn settings(args: &Args) -> Result<(WebConfig, String), String> {
    let database_url = args
        .database_url
        .clone()
        .ok_or("no database: pass --database-url URL or set DATABASE_URL")?;
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            toml::from_str::<FileConfig>(&text)
                .map_err(|err| format!("{}: {err}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let origins = file.cors_origins.iter().chain(&args.cors_origins);
    let config = WebConfig::default()
        .with_queues_max_age(std::time::Duration::from_secs_f64(args.queues_max_age))
        .with_auth(file.auth)
        .and_then(|config| config.with_cors_origins(origins))
        .map_err(|err| err.to_string())?;
    if !args.bind.ip().is_loopback() && !config.requires_auth() {
        return Err(format!(
            "refusing to serve {} without authentication: add [[auth.tokens]] to a --config \
             file, or bind a loopback address (127.0.0.1 or ::1)",
            args.bind
        ));
    }
    Ok((config, database_url))
}

fn hash_secret() -> ExitCode {
    let mut line = String::new();
    if let Err(err) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("error: cannot read standard input: {err}");
        return ExitCode::FAILURE;
    }
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.len() < 16 {
        eprintln!("error: a secret needs at least 16 characters (try: openssl rand -hex 32)");
        return ExitCode::from(2);
    }
    println!("{}", hammerwork_web::hash_secret(secret));
    ExitCode::SUCCESS
}

async fn serve(
    database_url: String,
    bind: SocketAddr,
    migrate: bool,
    config: WebConfig,
) -> Result<(), Box<dyn std::error::Error>> {
    let any = AnyStorage::connect(&database_url).await?;
    if migrate {
        any.migrate().await?;
    }
    let config = config.with_metrics(hammerwork::metrics::prometheus()?);
    let authenticated = config.requires_auth();
    let app = hammerwork_web::router(any.storage(), config);
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        backend = any.backend(),
        authenticated,
        "serving"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
