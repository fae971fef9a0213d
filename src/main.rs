use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = scenebrush::cli::Cli::parse();
    match scenebrush::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(scenebrush::cli::Exit(code)) = e.downcast_ref::<scenebrush::cli::Exit>() {
                return ExitCode::from(u8::try_from(*code).unwrap_or(1));
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
