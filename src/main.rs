//! The `teplokarta` binary: parses the command line, then runs a headless command or opens the
//! window.

use clap::Parser as _;
use teplokarta::cli::{Cli, run};

fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,teplokarta=info"),
    )
    .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(command) => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            run(command, &mut lock)
        }
        None => teplokarta::app::run_gui(&cli),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
