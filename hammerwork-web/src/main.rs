//! `hammerwork-web --database-url URL --bind 127.0.0.1:8080`: the web API
//! over the database the URL names.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use hammerwork::AnyStorage;

/// Hammerwork's web API: jobs, queues, workflows and spawn trees over HTTP.
#[derive(Debug, Parser)]
#[command(name = "hammerwork-web", version)]
struct Args {
    /// The database: postgres://..., mysql://... (or mariadb://...), or
    /// sqlite://FILE.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Where to listen. Only a loopback address: the API has no
    /// authentication, so serving other hosts is refused.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Create or upgrade Hammerwork's tables before serving.
    #[arg(long)]
    migrate: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    if !args.bind.ip().is_loopback() {
        eprintln!(
            "error: refusing to serve {} without authentication: bind a loopback address \
             (127.0.0.1 or ::1) and put an authenticating proxy in front for other hosts",
            args.bind
        );
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let any = AnyStorage::connect(&args.database_url).await?;
    if args.migrate {
        any.migrate().await?;
    }
    let app = hammerwork_web::router(any.storage(), hammerwork_web::WebConfig::default());
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    tracing::info!(address = %listener.local_addr()?, backend = any.backend(), "serving");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
